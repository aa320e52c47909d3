"""What a win starts: a numbered purchase confirmation (PDF, e-mailed), and after-sales work
as the pipeline says — a deal in the after-sales pipeline, a follow-up task for the owner."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from lejek.activities.models import Activity, Task
from lejek.activities.services import task_create
from lejek.pipeline.models import Deal
from lejek.pipeline.services import (
    deal_move_to_stage,
    pipeline_update,
    stage_update,
)
from lejek.sales.models import PurchaseConfirmation
from lejek.sales.pdf import confirmation_filename, confirmation_pdf
from lejek.sales.services import deal_line_add, product_create
from lejek.sales.winning import deal_close_won
from tests import smtp
from tests.factories import make_company, make_contact, make_deal
from tests.test_api_support import Api

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def won_deal(admin, rep, pipeline, **values):
    company = make_company(rep, name="Łódzkie Młyny S.A.", nip="7251801126")
    contact = make_contact(rep, first_name="Józef", last_name="Żak", email="jozef@mlyny.pl")
    deal = make_deal(rep, pipeline, company=company, contact=contact, **values)
    product = product_create(
        actor=admin, sku=f"MLN-{deal.pk}", name="Zażółć gęślą jaźń", net_price=Decimal("1000.00")
    )
    deal_line_add(actor=rep, deal=deal, product=product, quantity=Decimal(2))
    return Deal.objects.get(pk=deal.pk)


def test_a_win_numbers_a_confirmation_with_the_lines_as_they_were(admin, rep, pipeline):
    deal = won_deal(admin, rep, pipeline)
    win = deal_close_won(actor=rep, deal=deal, amount=None, closed_on=timezone.localdate())
    confirmation = win.confirmation
    today = timezone.localdate()
    assert confirmation.number == f"PZ/{today.year}/{today.month:02d}/0001"
    assert confirmation.amount == Decimal("2000.00")
    assert confirmation.lines[0]["name"] == "Zażółć gęślą jaźń"
    assert Deal.objects.count() == 1  # no after-sales deal: the pipeline asks for none
    assert not Task.objects.exists()
    other = won_deal(admin, rep, pipeline)
    second = deal_close_won(actor=rep, deal=other, amount=None, closed_on=today).confirmation
    assert second.number.endswith("/0002")


def test_the_confirmation_pdf_speaks_the_contacts_language(admin, rep, pipeline):
    deal = won_deal(admin, rep, pipeline)
    deal.contact.language = "pl"
    deal.contact.save(update_fields=["language"])
    confirmation = deal_close_won(
        actor=rep, deal=deal, amount=None, closed_on=timezone.localdate()
    ).confirmation
    assert confirmation.language == "pl"
    text = pdf_text(confirmation_pdf(confirmation))
    assert "Potwierdzenie zakupu" in text
    assert confirmation.number in text
    assert "Zażółć gęślą jaźń" in text
    assert "Łódzkie Młyny S.A." in text
    assert "2 460,00 zł" in text.replace("\u00a0", " ")


def test_the_pipeline_decides_the_after_sales_work(admin, rep, pipeline, onboarding):
    pipeline_update(
        actor=admin,
        pipeline=pipeline,
        values={"after_sales_pipeline": onboarding, "follow_up_days": 14},
    )
    deal = won_deal(admin, rep, pipeline, when=timezone.now() - datetime.timedelta(days=10))
    closed_on = timezone.localdate() - datetime.timedelta(days=3)
    deal_close_won(actor=rep, deal=deal, amount=Decimal("1900"), closed_on=closed_on)
    after = Deal.objects.get(pipeline=onboarding)
    assert after.title == f"After-sales: {deal.title}"
    assert after.stage.name == "Kick-off"
    assert (after.company, after.contact, after.owner) == (deal.company, deal.contact, rep)
    follow_up = Task.objects.get(deal=deal)
    assert follow_up.assignee == rep
    assert follow_up.due_date == timezone.localdate() + datetime.timedelta(days=14)
    assert Task.objects.count() == 1


def test_every_way_of_winning_starts_the_same_work(admin, rep, pipeline, onboarding):
    """The board and the stage control open the win dialog; the API and the service move
    straight to won, and still get their confirmation and after-sales deal."""
    pipeline_update(actor=admin, pipeline=pipeline, values={"after_sales_pipeline": onboarding})
    won = pipeline.stages.get(is_won=True)
    by_service = won_deal(admin, rep, pipeline)
    deal_move_to_stage(actor=rep, deal=by_service, stage=won)
    by_api = won_deal(admin, rep, pipeline)
    answer = Api(rep).post(f"/deals/{by_api.pk}/move", {"stage": won.pk})
    assert answer.status_code == 200, answer.content
    for deal in (by_service, by_api):
        assert deal.purchase_confirmations.get().amount == Decimal("2000.00")
        assert Deal.objects.filter(pipeline=onboarding, title__endswith=deal.title).count() == 1
    opened_won = make_deal(rep, pipeline, stage=won, amount=Decimal("5"))
    assert opened_won.purchase_confirmations.count() == 1


def test_a_pipeline_cannot_send_its_wins_to_itself(admin, pipeline):
    with pytest.raises(ValidationError):
        pipeline_update(actor=admin, pipeline=pipeline, values={"after_sales_pipeline": pipeline})


def test_a_win_that_cannot_start_its_after_sales_deal_changes_nothing(
    admin, rep, pipeline, onboarding
):

    stage_update(
        actor=admin,
        stage=onboarding.stages.get(name="Kick-off"),
        values={"required_fields": ["amount"]},
    )
    pipeline_update(actor=admin, pipeline=pipeline, values={"after_sales_pipeline": onboarding})
    deal = won_deal(admin, rep, pipeline)
    with pytest.raises(ValidationError):
        deal_close_won(actor=rep, deal=deal, amount=None, closed_on=timezone.localdate())
    assert not Deal.objects.get(pk=deal.pk).stage.is_won
    assert not PurchaseConfirmation.objects.exists()


def test_win_page_then_send_the_confirmation_over_smtp(
    smtp_server, client_for, admin, rep, pipeline
):
    deal = won_deal(admin, rep, pipeline)
    client = client_for(rep)
    answer = client.post(
        reverse("deal-win", args=[deal.pk]),
        {
            "amount": "2,000.00",
            "closed_on": timezone.localdate().isoformat(),
            "version": deal.version,
        },
    )
    assert answer.status_code == 302
    confirmation = PurchaseConfirmation.objects.get()
    page = client.get(deal.get_absolute_url()).text
    assert confirmation.number in page
    send_url = reverse("confirmation-send", args=[deal.pk, confirmation.pk])
    form = client.get(send_url)
    assert "jozef@mlyny.pl" in form.text
    sent = client.post(
        send_url,
        {
            "to": "jozef@mlyny.pl",
            "title": f"Confirmation {confirmation.number}",
            "body": "Thank you!",
        },
    )
    assert sent.status_code == 302
    [received] = smtp_server.messages
    assert received.recipients == ["jozef@mlyny.pl"]
    pdf = received.attachments[confirmation_filename(confirmation)]
    assert "Zażółć gęślą jaźń" in pdf_text(pdf)
    confirmation.refresh_from_db()
    assert confirmation.sent_at is not None
    assert Activity.objects.filter(deal=deal, kind=Activity.Kind.EMAIL).exists()


def test_others_cannot_read_or_send_a_confirmation(client_for, admin, rep, other_rep, pipeline):
    deal = won_deal(admin, rep, pipeline)
    confirmation = deal_close_won(
        actor=rep, deal=deal, amount=None, closed_on=timezone.localdate()
    ).confirmation
    stranger = client_for(other_rep)
    assert (
        stranger.get(reverse("confirmation-pdf", args=[deal.pk, confirmation.pk])).status_code
        == 404
    )
    assert (
        stranger.get(reverse("confirmation-send", args=[deal.pk, confirmation.pk])).status_code
        == 404
    )


def test_pipeline_settings_page_sets_the_after_sales_work(client_for, admin, pipeline, onboarding):
    answer = client_for(admin).post(
        reverse("pipeline-edit", args=[pipeline.pk]),
        {
            "name": pipeline.name,
            "is_default": "on",
            "rotting_days": "30",
            "after_sales_pipeline": onboarding.pk,
            "follow_up_days": "7",
        },
    )
    assert answer.status_code == 302
    pipeline.refresh_from_db()
    assert (pipeline.after_sales_pipeline, pipeline.follow_up_days) == (onboarding, 7)


def test_the_deal_page_shows_the_contacts_preferences_beside_the_negotiation(
    client_for, rep, pipeline
):
    contact = make_contact(
        rep, last_name="Żak", preferred_channel="phone", language="pl", notes="Calls after 15:00."
    )
    deal = make_deal(rep, pipeline, contact=contact)
    page = client_for(rep).get(deal.get_absolute_url()).text
    assert "Prefers: Phone" in page
    assert "Language: Polski" in page
    assert "Calls after 15:00." in page


def test_the_deal_page_shows_the_next_step_and_says_when_it_is_overdue(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    page = client_for(rep).get(deal.get_absolute_url()).text
    assert "No next step planned" in page
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    task_create(actor=rep, subject=deal, title="Send the revised offer", due_date=yesterday)
    task_create(actor=rep, subject=deal, title="Someday call", due_date=None)
    page = client_for(rep).get(deal.get_absolute_url()).text
    assert "Next step: Send the revised offer" in page
    assert "overdue" in page
