"""What the services keep from each deal's stage history: the stages a deal has been in, by
every writer, filled by migration."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from lejek.analytics.figures import compute
from lejek.pipeline.models import Deal, StageChange
from lejek.pipeline.services import deal_create, deal_move_to_stage, stage_move
from tests.analytics_history import assert_stage_entries_match_histories
from tests.test_analytics_funnel import year_scope


def migration(name: str):
    return importlib.import_module(f"lejek.pipeline.migrations.{name}")


def walk(admin, pipeline, title, path):
    stages = list(pipeline.stages.order_by("position"))
    deal = deal_create(actor=admin, title=title, pipeline=pipeline, stage=stages[0])
    for index in path:
        deal.refresh_from_db()
        deal_move_to_stage(actor=admin, deal=deal, stage=stages[index], lost_reason="Price")
    deal.refresh_from_db()
    return deal, stages


def reached_per_step(user) -> dict[str, int]:
    return {row["step"]: row["reached"] for row in compute("deal_funnel", year_scope(user)).rows}


@pytest.mark.django_db
def test_moving_back_into_a_stage_keeps_each_stage_visited_once(admin, pipeline):
    deal, stages = walk(admin, pipeline, "Back and forth", [1, 0, 2, 1])
    first, second, third = stages[:3]

    moves = list(StageChange.objects.filter(deal=deal).values_list("to_stage", flat=True))
    assert moves == [first.pk, second.pk, first.pk, third.pk, second.pk]
    assert deal.stages_visited == f"{first.pk},{second.pk},{third.pk}"
    assert_stage_entries_match_histories()


@pytest.mark.django_db
def test_the_migration_fills_stages_visited(admin, pipeline):
    for title in ("A", "B"):
        walk(admin, pipeline, title, [1, 0, 1, 2])
    walk(admin, pipeline, "Lost early", [4])
    Deal.objects.update(stages_visited="")  # as the new column starts

    migration("0009_deal_stages_visited").fill(None, SimpleNamespace(connection=connection))

    assert_stage_entries_match_histories()


@pytest.mark.django_db
def test_the_deal_funnel_follows_a_reordered_pipeline_without_rewriting_deals(admin, pipeline):
    # Qualified → Negotiation → Lost: it got to Negotiation, past Proposal.
    walk(admin, pipeline, "Skipper", [2, 4])
    # Qualified → Proposal, still open.
    walk(admin, pipeline, "Proposer", [1])
    reached = reached_per_step(admin)
    assert (reached["Qualified"], reached["Proposal"], reached["Negotiation"]) == (2, 2, 1)

    negotiation = pipeline.stages.get(name="Negotiation")
    stage_move(actor=admin, stage=negotiation, position=1)  # now before Proposal
    visited_before = list(Deal.objects.order_by("pk").values_list("stages_visited", flat=True))

    reached = reached_per_step(admin)
    # The skipper got to Negotiation, now the second step; the proposer to Proposal, now
    # the third, passing Negotiation on the way.
    assert (reached["Qualified"], reached["Negotiation"], reached["Proposal"]) == (2, 2, 1)
    assert list(Deal.objects.order_by("pk").values_list("stages_visited", flat=True)) == (
        visited_before
    )
