"""A migration operation that drops foreign keys' own indexes without rebuilding their tables.

Setting `db_index=False` on a foreign key is an AlterField, which SQLite carries out by
copying the whole table, once per field. Where another index already starts with the key,
only the key's own single-column index has to go: `key_indexes_dropped` changes the migration
state as the AlterFields do and drops just those indexes, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import migrations


def key_indexes_dropped(
    app_label: str, *operations: migrations.AlterField
) -> migrations.SeparateDatabaseAndState:
    targets = [(operation.model_name, operation.name) for operation in operations]

    def drop(apps, schema_editor):
        connection = schema_editor.connection
        for model_name, field_name in targets:
            model = apps.get_model(app_label, model_name)
            column = model._meta.get_field(field_name).column
            with connection.cursor() as cursor:
                found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for name, info in found.items():
                own_index = (
                    info["index"]
                    and info["columns"] == [column]
                    and not info["unique"]
                    and not info["primary_key"]
                    and not info["foreign_key"]
                )
                if own_index:
                    schema_editor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")

    def create(apps, schema_editor):
        for model_name, field_name in targets:
            model = apps.get_model(app_label, model_name)
            field = model._meta.get_field(field_name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        state_operations=list(operations),
        database_operations=[migrations.RunPython(drop, create, elidable=False)],
    )
