from __future__ import annotations

import datetime

from django.urls import reverse

from tests.factories import make_deal, set_language


def test_hidden_record_gets_the_friendly_404_without_its_data(client_for, rep, other_rep, pipeline):
    deal = make_deal(rep, pipeline, title="Kontrakt tajny")
    response = client_for(other_rep).get(reverse("deal-detail", args=[deal.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist, or you cannot see it" in html
    assert "Kontrakt tajny" not in html


def test_forbidden_action_gets_the_friendly_403(client_for, rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    response = client_for(marketer).get(reverse("deal-edit", args=[deal.pk]))
    assert response.status_code == 403
    assert "You are not allowed to do this" in response.content.decode()


def test_date_inputs_keep_iso_values_for_polish_users(client_for, rep, pipeline):
    """The browser's date picker only reads ISO dates; a Polish format would blank the field."""
    set_language(rep, "pl")
    deal = make_deal(rep, pipeline, expected_close_date=datetime.date(2026, 3, 31))
    html = client_for(rep).get(reverse("deal-edit", args=[deal.pk])).content.decode()
    assert 'value="2026-03-31"' in html
    assert "31.03.2026" not in html
