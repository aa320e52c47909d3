"""A foreign key loses its own index, with no table rebuild, where another index starts with it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from lejek.activities.models import Activity
from lejek.pipeline.models import StageChange


def single_column_indexes(model, column: str) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in found.items()
        if info["index"] and info["columns"] == [column] and not info["unique"]
    ]


def multi_column_indexes(model, column: str) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in found.items()
        if info["index"] and len(info["columns"]) > 1 and info["columns"][0] == column
    ]


def index_migration(app: str, name: str):
    module = importlib.import_module(f"lejek.{app}.migrations.{name}")
    operation = module.Migration.operations[0]
    return operation.database_operations[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("app", "name", "model", "column"),
    [
        ("activities", "0005_key_indexes", Activity, "lead_id"),
        ("pipeline", "0013_key_indexes", StageChange, "deal_id"),
    ],
)
def test_the_key_index_goes_and_comes_back_and_the_wider_index_stays(app, name, model, column):
    run_python = index_migration(app, name)
    assert single_column_indexes(model, column) == []
    wider = multi_column_indexes(model, column)
    assert wider, "the index that serves look-ups by the key"

    with connection.schema_editor() as editor:
        run_python.reverse_code(apps, editor)  # migrating back puts Django's own index back
    assert len(single_column_indexes(model, column)) == 1

    with connection.schema_editor() as editor:
        run_python.code(apps, editor)
    assert single_column_indexes(model, column) == []
    assert multi_column_indexes(model, column) == wider


def test_models_index_every_foreign_key_that_lost_its_own_index():
    """A key without an index of its own is still the first column of one of its model's."""
    for model in apps.get_models():
        if not model.__module__.startswith("lejek."):
            continue
        leading = {index.fields[0].lstrip("-") for index in model._meta.indexes}
        for field in model._meta.concrete_fields:
            if field.many_to_one and not field.db_index:
                assert field.name in leading, f"{model.__name__}.{field.name} has no index"
