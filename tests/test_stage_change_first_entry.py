"""A deal's first change into each stage is marked, whoever writes the change."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from lejek.pipeline.models import StageChange
from lejek.pipeline.services import deal_create, deal_move_to_stage
from tests.analytics_history import assert_stage_entries_match_histories


@pytest.mark.django_db
def test_moving_back_into_a_stage_is_not_a_first_entry(admin, pipeline):
    stages = list(pipeline.stages.order_by("position"))
    first, second, third = stages[0], stages[1], stages[2]
    deal = deal_create(actor=admin, title="Back and forth", pipeline=pipeline, stage=first)
    for stage in (second, first, third, second):
        deal.refresh_from_db()
        deal_move_to_stage(actor=admin, deal=deal, stage=stage)

    marks = list(StageChange.objects.filter(deal=deal).values_list("to_stage", "first_entry"))
    assert marks == [
        (first.pk, True),
        (second.pk, True),
        (first.pk, False),
        (third.pk, True),
        (second.pk, False),
    ]
    assert_stage_entries_match_histories()


@pytest.mark.django_db
def test_the_migration_marks_first_entries_of_existing_changes(admin, pipeline):
    stages = list(pipeline.stages.order_by("position"))
    for title in ("A", "B"):
        deal = deal_create(actor=admin, title=title, pipeline=pipeline, stage=stages[0])
        for stage in (stages[1], stages[0], stages[1], stages[2]):
            deal.refresh_from_db()
            deal_move_to_stage(actor=admin, deal=deal, stage=stage)
    StageChange.objects.update(first_entry=True)  # as the new column starts

    migration = importlib.import_module("lejek.pipeline.migrations.0007_stage_change_first_entry")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)

    assert StageChange.objects.filter(first_entry=False).count() == 4
    assert_stage_entries_match_histories()
