"""E-mail templates: merge fields, their sandbox, the settings pages and the preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lejek.activities.email_templates import (
    FIELDS,
    email_template_create,
    email_template_delete,
    email_template_update,
    merge_values,
    render_email,
    render_template,
    templates_for,
)
from lejek.activities.models import EmailTemplate
from lejek.core.models import Event
from tests.factories import make_company, make_contact, make_deal, make_lead


def make_template(actor, **values) -> EmailTemplate:
    values.setdefault("name", "Follow-up")
    values.setdefault("language", "en")
    values.setdefault("subject", "Hello {{ contact.first_name }}")
    values.setdefault("body", "Dear {{ contact.first_name }} {{ contact.last_name }},\n")
    return email_template_create(actor=actor, **values)


def render_for(record, sender, body: str, language: str = "en"):
    return render_email(subject="S", body=body, record=record, sender=sender, language=language)


# Merge fields ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deal_template_fills_contact_company_deal_and_rep(admin, rep, pipeline):
    company = make_company(rep, name="Żabka Polska")
    contact = make_contact(rep, first_name="Łucja", last_name="Wójcik", company=company)
    deal = make_deal(rep, pipeline, title="Wdrożenie", amount=Decimal("12345.50"), contact=contact)
    template = make_template(
        admin,
        language="pl",
        subject="Oferta dla {{ company.name }}: {{ deal.title }}",
        body=(
            "Dzień dobry {{ contact.first_name }} {{ contact.last_name }} ({{ contact.email }}),\n"
            "kwota: {{ deal.amount }}\n"
            "{{ rep.first_name }} {{ rep.last_name }}, {{ rep.email }}"
        ),
    )
    rendered = render_template(template, record=deal, sender=rep)
    assert rendered.subject == "Oferta dla Żabka Polska: Wdrożenie"
    assert f"Dzień dobry Łucja Wójcik ({contact.email})," in rendered.body
    assert "kwota: 12\xa0345,50\xa0zł" in rendered.body
    assert "Rita Rep, rita@example.com" in rendered.body
    assert rendered.unknown == []
    assert rendered.empty == []


@pytest.mark.django_db
def test_amount_is_written_in_the_templates_language(rep, pipeline):
    deal = make_deal(rep, pipeline, amount=Decimal("1000"))
    english = render_for(deal, rep, "{{ deal.amount }}", language="en").body
    polish = render_for(deal, rep, "{{ deal.amount }}", language="pl").body
    assert english != polish
    assert "1,000.00" in english
    assert "zł" in polish


@pytest.mark.django_db
def test_lead_lends_its_own_name_to_contact_fields(rep):
    lead = make_lead(rep, first_name="Olga", last_name="Żak", company_name="Acme")
    rendered = render_for(
        lead, rep, "{{ contact.first_name }} {{ lead.last_name }} {{ company.name }}"
    )
    assert rendered.body == "Olga Żak Acme"


@pytest.mark.django_db
def test_unknown_variable_renders_empty_and_is_reported(rep):
    contact = make_contact(rep, first_name="Anna")
    rendered = render_for(
        contact, rep, "Hi {{ contact.first_name }}{{ contact.nickname }}{{ foo }}!"
    )
    assert rendered.body == "Hi Anna!"
    assert rendered.unknown == ["contact.nickname", "foo"]


@pytest.mark.django_db
def test_known_field_without_a_value_is_reported_as_empty(rep):
    company = make_company(rep)
    rendered = render_for(company, rep, "{{ company.name }} / {{ contact.first_name }}")
    assert rendered.body == f"{company.name} / "
    assert rendered.empty == ["contact.first_name"]
    assert rendered.unknown == []


@pytest.mark.django_db
def test_plain_text_is_not_html_escaped(rep):
    company = make_company(rep, name='Kowalski & Syn "Budmex" <PL>')
    rendered = render_for(company, rep, "{{ company.name }}")
    assert rendered.body == 'Kowalski & Syn "Budmex" <PL>'


@pytest.mark.django_db
def test_filters_and_conditions_work_on_merge_fields(rep):
    contact = make_contact(rep, first_name="anna", last_name="Nowak")
    rendered = render_for(
        contact,
        rep,
        "{{ contact.first_name|capfirst }}{% if contact.phone %} tel{% else %} no phone{% endif %}"
        "{{ contact.title|default:' (no title)' }}",
    )
    assert rendered.body == "Anna no phone (no title)"


# The sandbox -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_model_methods_are_out_of_reach(rep):
    contact = make_contact(rep, first_name="Anna")
    rendered = render_for(
        contact,
        rep,
        "{{ contact.delete }}{{ contact.save }}{{ contact.items }}{{ contact.pk }}"
        "{{ contact.owner.password }}{{ rep.password }}{{ contact }}",
    )
    assert rendered.body == ""
    contact.refresh_from_db()  # still there: nothing was deleted
    assert "contact.delete" in rendered.unknown
    assert "rep.password" in rendered.unknown


@pytest.mark.django_db
def test_settings_and_request_are_not_in_the_context(rep, settings):
    settings.SECRET_KEY = "s3cret-value-for-the-test"
    rendered = render_for(
        make_contact(rep), rep, "{{ settings.SECRET_KEY }}{{ request.user }}{{ user.email }}"
    )
    assert rendered.body == ""
    assert rendered.unknown == ["settings.SECRET_KEY", "request.user", "user.email"]


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% debug %}",
        "{% url 'home' %}",
        "{% csrf_token %}",
        "{{ contact.__class__ }}",
        "{{ contact.first_name|center:'99999999' }}",
        "{% if %}",
        "{% for x in contact.first_name %}{{ x }}{% endfor %}",
        "{% cycle 'a' 'b' %}",
        "{% now 'Y' %}",
    ],
)
@pytest.mark.django_db
def test_dangerous_or_broken_templates_are_refused_when_saved(admin, source):
    with pytest.raises(ValidationError) as caught:
        make_template(admin, body=f"Hi {source}")
    assert "This template has an error" in caught.value.message_dict["body"][0]
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_syntax_error_in_the_subject_is_a_subject_error(admin):
    with pytest.raises(ValidationError) as caught:
        make_template(admin, subject="Hi {% load i18n %}")
    assert set(caught.value.message_dict) == {"subject"}


# Services and permissions ------------------------------------------------------------------


@pytest.mark.django_db
def test_editors_manage_templates_and_each_change_is_an_event(admin, manager, marketer):
    template = make_template(manager)
    email_template_update(actor=marketer, template=template, values={"name": "Po spotkaniu"})
    assert EmailTemplate.objects.get().name == "Po spotkaniu"
    email_template_delete(actor=admin, template=template)
    assert not EmailTemplate.objects.exists()
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-3:] == [
        "email_template.created",
        "email_template.updated",
        "email_template.deleted",
    ]


@pytest.mark.django_db
def test_reps_use_templates_but_cannot_change_them(admin, rep):
    template = make_template(admin)
    with pytest.raises(PermissionDenied):
        make_template(rep, name="Mine")
    with pytest.raises(PermissionDenied):
        email_template_update(actor=rep, template=template, values={"name": "x"})
    with pytest.raises(PermissionDenied):
        email_template_delete(actor=rep, template=template)
    assert templates_for("deal") == [template]


@pytest.mark.django_db
def test_templates_are_offered_for_their_record_kinds_when_active(admin):
    everywhere = make_template(admin, name="Any")
    deals_only = make_template(admin, name="Deal", record_kinds=["deal"])
    make_template(admin, name="Off", is_active=False)
    assert templates_for("deal") == [everywhere, deals_only]
    assert templates_for("lead") == [everywhere]


@pytest.mark.django_db
def test_same_name_in_another_language_is_fine_but_not_twice(admin):
    make_template(admin, language="en")
    make_template(admin, language="pl")
    with pytest.raises(ValidationError):
        make_template(admin, language="pl")


@pytest.mark.django_db
def test_merge_values_are_plain_strings(rep, pipeline):
    deal = make_deal(rep, pipeline, contact=make_contact(rep))
    values = merge_values(deal, sender=rep)
    for group, names in FIELDS.items():
        for name in names:
            assert type(values[group][name]) is str, f"{group}.{name}"
    assert values["deal"]["title"] == deal.title
    assert values["contact"]["email"] == deal.contact.email


# Settings pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_marketer_creates_a_template_on_the_settings_page(client_for, marketer):
    response = client_for(marketer).post(
        reverse("email-template-create"),
        {
            "name": "Thanks",
            "language": "pl",
            "subject": "Dziękujemy, {{ contact.first_name }}",
            "body": "Dzień dobry {{ contact.first_name }}",
            "record_kinds": ["lead", "contact"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    assert template.record_kinds == ["lead", "contact"]
    assert template.created_by == marketer
    page = client_for(marketer).get(reverse("email-template-list")).content.decode()
    assert "Thanks" in page


@pytest.mark.django_db
def test_syntax_error_is_shown_next_to_the_field(client_for, admin):
    response = client_for(admin).post(
        reverse("email-template-create"),
        {"name": "Bad", "language": "en", "subject": "Hi", "body": "{% include 'x' %}"},
    )
    assert response.status_code == 400
    assert "This template has an error" in response.content.decode()
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_rep_reads_the_list_but_cannot_open_the_editor(client_for, admin, rep):
    template = make_template(admin)
    client = client_for(rep)
    page = client.get(reverse("email-template-list"))
    assert page.status_code == 200
    assert template.name in page.content.decode()
    assert reverse("email-template-edit", args=[template.pk]) not in page.content.decode()
    assert client.get(reverse("email-template-edit", args=[template.pk])).status_code == 403
    assert client.get(reverse("email-template-create")).status_code == 403
    assert client.post(reverse("email-template-delete", args=[template.pk])).status_code == 403
    assert EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_preview_on_the_settings_page_fills_fields_and_warns(client_for, manager, rep):
    contact = make_contact(rep, first_name="Zofia")
    template = make_template(manager)
    response = client_for(manager).post(
        reverse("email-template-edit", args=[template.pk]),
        {
            "name": template.name,
            "language": "en",
            "subject": "Hello {{ contact.first_name }}",
            "body": "Dear {{ contact.first_name }}{{ contact.shoe_size }}",
            "is_active": "on",
            "preview_record": f"contact:{contact.pk}",
            "action": "preview",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello Zofia" in html
    assert "Dear Zofia" in html
    assert "contact.shoe_size" in html
    assert "Unknown merge fields" in html
    # A preview saves nothing.
    template.refresh_from_db()
    assert template.body == "Dear {{ contact.first_name }} {{ contact.last_name }},\n"


@pytest.mark.django_db
def test_preview_cannot_use_a_record_the_editor_cannot_see(client_for, manager, other_rep):
    hidden = make_contact(other_rep, first_name="Sekret")
    response = client_for(manager).post(
        reverse("email-template-create"),
        {
            "name": "x",
            "language": "en",
            "subject": "Hi",
            "body": "{{ contact.first_name }}",
            "preview_record": f"contact:{hidden.pk}",
            "action": "preview",
        },
    )
    assert response.status_code == 400
    assert "Sekret" not in response.content.decode()


@pytest.mark.django_db
def test_delete_page_removes_the_template(client_for, admin):
    template = make_template(admin)
    client = client_for(admin)
    assert client.get(reverse("email-template-delete", args=[template.pk])).status_code == 200
    response = client.post(reverse("email-template-delete", args=[template.pk]))
    assert response.status_code == 302
    assert not EmailTemplate.objects.exists()
