"""Admins define custom fields in Settings; nobody else may."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from lejek.core.custom_fields import clean_values
from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_field(client, **data):
    values = {"entity": "lead", "label": "Industry code", "key": "industry_code", "type": "text"}
    values.update(data)
    return client.post(reverse("custom-field-create"), values)


@pytest.fixture
def budget(admin):
    return custom_field_create(
        actor=admin, entity="deal", key="budget_band", label="Budget band", type="choice",
        choices="Small\nMedium\nLarge",
    )  # fmt: skip


def test_non_admins_get_403_on_every_management_page(manager, rep, marketer, budget):
    pages = [
        reverse("custom-field-list"),
        reverse("custom-field-create"),
        reverse("custom-field-edit", args=[budget.pk]),
        reverse("custom-field-delete", args=[budget.pk]),
    ]
    for user in (manager, rep, marketer):
        client = signed_in(user)
        for url in pages:
            assert client.get(url).status_code == 403, (user, url)
            if url != pages[0]:
                assert client.post(url, {"label": "Hacked"}).status_code == 403, (user, url)
    budget.refresh_from_db()
    assert budget.label == "Budget band"


def test_services_refuse_non_admins(manager, budget):
    with pytest.raises(PermissionDenied):
        custom_field_create(actor=manager, entity="lead", key="x", label="X", type="text")
    with pytest.raises(PermissionDenied):
        custom_field_update(actor=manager, field=budget, values={"label": "Y"})
    with pytest.raises(PermissionDenied):
        custom_field_delete(actor=manager, field=budget)


def test_admin_creates_a_field_that_records_then_accept(admin):
    client = signed_in(admin)
    response = new_field(client, type="number", required="on")
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert (field.entity, field.key, field.type, field.required) == (
        "lead",
        "industry_code",
        "number",
        True,
    )
    assert Event.objects.get(verb="custom_field.created").actor == admin
    html = client.get(reverse("custom-field-list")).content.decode()
    assert "Industry code" in html and "industry_code" in html
    assert clean_values("lead", {"industry_code": "42"}) == {"industry_code": 42}


def test_duplicate_key_is_refused_next_to_the_key_field(admin, budget):
    response = new_field(signed_in(admin), entity="deal", key="budget_band", label="Again")
    assert response.status_code == 400
    assert response.context["form"].errors["key"] == [
        "This record type already has a field with this key."
    ]
    assert 'id="id_key_error"' in response.content.decode()
    assert CustomField.objects.count() == 1
    # The same key on another record type is fine.
    assert new_field(signed_in(admin), entity="lead", key="budget_band").status_code == 302


def test_choice_type_needs_choices(admin):
    response = new_field(signed_in(admin), type="choice", choices="  \n \n")
    assert response.status_code == 400
    assert "at least one choice" in response.context["form"].errors["choices"][0]
    assert not CustomField.objects.exists()


def test_choices_are_one_per_line_trimmed_and_deduplicated(admin):
    new_field(signed_in(admin), type="choice", choices=" A \nB\r\nA\n\nC")
    assert CustomField.objects.get().choices == ["A", "B", "C"]


def test_key_must_be_a_plain_identifier(admin):
    for bad in ("Industry Code", "1st", "kod-branży", "x y"):
        response = new_field(signed_in(admin), key=bad)
        assert response.status_code == 400, bad
        assert "key" in response.context["form"].errors
    assert not CustomField.objects.exists()


def test_choices_of_other_types_are_dropped(admin):
    field = custom_field_create(
        actor=admin, entity="lead", key="note", label="Note", type="text", choices=["x"]
    )
    assert field.choices == []


def test_admin_edits_label_and_choices_but_not_key_or_type(admin, budget):
    client = signed_in(admin)
    response = client.post(
        reverse("custom-field-edit", args=[budget.pk]),
        {
            "entity": "lead",
            "key": "renamed",
            "type": "text",
            "label": "Budget size",
            "choices": "S\nM\nL\nXL",
            "position": "3",
        },
    )
    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.entity, budget.key, budget.type) == ("deal", "budget_band", "choice")
    assert (budget.label, budget.choices, budget.position) == (
        "Budget size",
        ["S", "M", "L", "XL"],
        3,
    )
    event = Event.objects.get(verb="custom_field.updated")
    assert event.before["label"] == "Budget band" and event.after["label"] == "Budget size"


def test_edit_cannot_empty_the_choices(admin, budget):
    response = signed_in(admin).post(
        reverse("custom-field-edit", args=[budget.pk]),
        {"label": "Budget band", "choices": "", "position": "0"},
    )
    assert response.status_code == 400
    assert "choices" in response.context["form"].errors
    budget.refresh_from_db()
    assert budget.choices == ["Small", "Medium", "Large"]


def test_service_refuses_changing_the_key(admin, budget):
    with pytest.raises(ValidationError) as caught:
        custom_field_update(actor=admin, field=budget, values={"key": "other"})
    assert "key" in caught.value.message_dict


def test_delete_asks_first_then_removes_and_logs(admin, budget):
    client = signed_in(admin)
    confirm = client.get(reverse("custom-field-delete", args=[budget.pk]))
    assert confirm.status_code == 200 and "Delete “Budget band”?" in confirm.content.decode()
    assert CustomField.objects.exists()
    assert client.post(reverse("custom-field-delete", args=[budget.pk])).status_code == 302
    assert not CustomField.objects.exists()
    assert Event.objects.get(verb="custom_field.deleted").before["key"] == "budget_band"


def test_new_field_goes_at_the_end_of_its_record_type(admin, budget):
    second = custom_field_create(actor=admin, entity="deal", key="b", label="B", type="boolean")
    other = custom_field_create(actor=admin, entity="lead", key="c", label="C", type="date")
    assert (budget.position, second.position, other.position) == (0, 1, 0)


def test_list_shows_an_empty_state_per_record_type(admin):
    html = signed_in(admin).get(reverse("custom-field-list")).content.decode()
    assert "No custom fields on Lead yet." in html
    assert f"{reverse('custom-field-create')}?entity=contact" in html
