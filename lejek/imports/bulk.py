"""Multi-row INSERTs for the import's hot path.

`bulk_create` spends most of its time compiling SQL: every value of every row goes through
several layers of field methods. An import inserts rows that are already checked and already
in their Python types, so here each column is converted once per value only where the
database needs it (dates, JSON, decimals), and the INSERT ... RETURNING is the same statement
Django writes, with the same reliance on the returned ids coming back in row order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState

from lejek.core.models import Event

# Rows per INSERT statement.
CHUNK = 256
# Types the database drivers take as they are.
PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """The database form of a value: what get_db_prep_save ends in, without its layers."""
    ops = connection.ops
    if isinstance(field, PLAIN) and not isinstance(field, models.AutoField):
        return None
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(
            value, field.max_digits, field.decimal_places
        )
    if isinstance(field, models.JSONField):
        return lambda value: ops.adapt_json_value(value, field.encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def blank(model: type[models.Model]) -> Callable[[], models.Model]:
    """A factory of new, unsaved instances with every field at its default.

    Model.__init__ walks every field for every instance; an import builds hundreds of
    thousands of them, so the defaults are computed once and copied. Only plain values are
    copied this way: a field whose default is mutable (a dict) gets a fresh one each time.
    """
    template = model()
    plain = {k: v for k, v in template.__dict__.items() if k != "_state"}
    mutable = [k for k, v in plain.items() if isinstance(v, dict | list)]

    def make() -> models.Model:
        obj = model.__new__(model)
        obj.__dict__.update(plain)
        for name in mutable:
            obj.__dict__[name] = type(plain[name])()
        obj._state = ModelState()
        return obj

    return make


class Inserter:
    """INSERT rows of `model` (values in `columns` order, by attname) and return their ids."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.model = model
        self.columns = list(columns)
        self.converters = [_converter(fields[name]) for name in self.columns]
        quote = connection.ops.quote_name
        self.head = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(fields[name].column) for name in self.columns)}) VALUES "
        )
        self.row_sql = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        self.pk = quote(model._meta.pk.column)
        max_params = connection.features.max_query_params or 65535
        self.chunk = max(1, min(CHUNK, max_params // len(self.columns)))

    def prepare(self, values: Sequence[Any]) -> list[Any]:
        return [
            value if convert is None or value is None else convert(value)
            for value, convert in zip(values, self.converters, strict=True)
        ]

    def sizes(self, total: int) -> list[int]:
        """Chunk sizes adding up to `total`: full chunks, then powers of two.

        Every distinct statement text is a prepared statement the driver keeps in its cache
        (SQLite's is large for a 10,000-parameter INSERT); a few fixed sizes keep that cache,
        and the memory it holds, small however many batches run.
        """
        sizes = [self.chunk] * (total // self.chunk)
        rest = total % self.chunk
        size = 1 << max(0, self.chunk.bit_length() - 1)
        while rest:
            if size <= rest:
                sizes.append(size)
                rest -= size
            size >>= 1
        return sizes

    def insert(self, rows: list[Sequence[Any]]) -> list[int]:
        ids: list[int] = []
        start = 0
        with connection.cursor() as cursor:
            for size in self.sizes(len(rows)):
                chunk = rows[start : start + size]
                start += size
                params = [value for row in chunk for value in self.prepare(row)]
                sql = self.head + ", ".join([self.row_sql] * size) + f" RETURNING {self.pk}"
                cursor.execute(sql, params)
                ids.extend(row[0] for row in cursor.fetchall())
        return ids

    def insert_objects(self, objects: list[models.Model], related: Sequence[str] = ()) -> None:
        """Insert model instances built in memory and give each its id.

        `related` names foreign keys that may hold a record saved after it was assigned (a
        company created in the same batch): its id is copied over first, as save() would.
        """
        for name in related:
            for obj in objects:
                target = obj._state.fields_cache.get(name)
                if target is not None and getattr(obj, f"{name}_id") is None:
                    setattr(obj, f"{name}_id", target.pk)
        rows = [[getattr(obj, name) for name in self.columns] for obj in objects]
        for obj, pk in zip(objects, self.insert(rows), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias


EVENT_COLUMNS = (
    "created_at",
    "actor_id",
    "verb",
    "content_type_id",
    "object_id",
    "object_repr",
    "before",
    "after",
)


def columns_of(model: type[models.Model]) -> list[str]:
    """Every concrete column but the primary key, by attname."""
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def event_inserter() -> Inserter:
    return Inserter(Event, EVENT_COLUMNS)
