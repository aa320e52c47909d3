"""Multi-row INSERTs for the import's hot path.

`bulk_create` spends most of its time compiling SQL: every value of every row goes through
several layers of field methods. An import inserts rows that are already checked and already
in their Python types, so here each column is converted once per value only where the
database needs it (dates, JSON, decimals), and the INSERT ... RETURNING is the same statement
Django writes, with the same reliance on the returned ids coming back in row order.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState

from lejek.core.models import Event

# Rows per INSERT statement.
CHUNK = 256
# Distinct datetimes whose database form is remembered per column (an import's rows share a
# few hundred creation dates; beyond this the memo starts afresh).
DATETIME_MEMO = 4096
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
        return _remembered(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(
            value, field.max_digits, field.decimal_places
        )
    if isinstance(field, models.JSONField):
        empty = ops.adapt_json_value({}, field.encoder)

        def adapt_json(value: Any) -> Any:
            # Most imported rows carry no custom values and Events no "before": one
            # empty object, encoded once.
            if type(value) is dict and not value:
                return empty
            return ops.adapt_json_value(value, field.encoder)

        return adapt_json
    return lambda value: field.get_db_prep_save(value, connection)


def _remembered(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`adapt` computed once per distinct value: on SQLite every datetime becomes a UTC string
    through the time-zone machinery, and imported rows repeat the same creation dates."""
    memo: dict[Any, Any] = {}

    def adapted(value: Any) -> Any:
        found = memo.get(value)
        if found is None:
            found = adapt(value)
            if len(memo) >= DATETIME_MEMO:
                memo.clear()
            memo[value] = found
        return found

    return adapted


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


def link(obj: models.Model, name: str, target: models.Model | None) -> None:
    """`obj.<name> = target` for a foreign key, as its descriptor does it (the id and the
    cached object), without the descriptor's checks: the import hands it records of the
    right model, and sets a few per row on hundreds of thousands of rows."""
    obj.__dict__[f"{name}_id"] = None if target is None else target.pk
    obj._state.fields_cache[name] = target


class Inserter:
    """INSERT rows of `model` (values in `columns` order, by attname) and return their ids."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.model = model
        self.columns = list(columns)
        self.converters = [_converter(fields[name]) for name in self.columns]
        # Only the few columns that need converting are visited per row.
        self.converting = [
            (index, convert) for index, convert in enumerate(self.converters) if convert
        ]
        self._values_of = operator.itemgetter(*self.columns)
        quote = connection.ops.quote_name
        self.head = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(fields[name].column) for name in self.columns)}) VALUES "
        )
        self.row_sql = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        self.pk = quote(model._meta.pk.column)
        max_params = connection.features.max_query_params or 65535
        self.chunk = max(1, min(CHUNK, max_params // len(self.columns)))
        # PostgreSQL takes the rows by COPY: no statement text to build and parse (the
        # driver binds parameters client-side, scanning a 7,000-placeholder INSERT for each
        # chunk), and ids, when wanted, drawn from the table's sequence first.
        self.copy = connection.vendor == "postgresql"
        self.copy_sql = (
            f"COPY {quote(model._meta.db_table)} ({{columns}}"
            f"{', '.join(quote(fields[name].column) for name in self.columns)}) FROM STDIN"
        )
        self._sequence: str | None = None

    def prepare(self, values: Sequence[Any]) -> list[Any]:
        if len(values) != len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        prepared = list(values)
        for index, convert in self.converting:
            value = prepared[index]
            if value is not None:
                prepared[index] = convert(value)
        return prepared

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

    def insert(self, rows: list[Sequence[Any]], *, returning: bool = True) -> list[int]:
        """Insert `rows`; their ids in row order, or [] when `returning` is False."""
        if not rows:
            return []
        if self.copy:
            return self._copy(rows, returning=returning)
        ids: list[int] = []
        start = 0
        tail = f" RETURNING {self.pk}" if returning else ""
        with connection.cursor() as cursor:
            for size in self.sizes(len(rows)):
                chunk = rows[start : start + size]
                start += size
                params = []
                for row in chunk:
                    params += self.prepare(row)
                cursor.execute(self.head + ", ".join([self.row_sql] * size) + tail, params)
                if returning:
                    ids.extend(row[0] for row in cursor.fetchall())
        return ids

    def _copy(self, rows: list[Sequence[Any]], *, returning: bool) -> list[int]:
        ids: list[int] = []
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if returning:
                # nextval is what the column's default would call; taken in one query, in
                # ascending order as the INSERT would hand them out.
                cursor.execute(
                    "SELECT nextval(%s) FROM generate_series(1, %s)",
                    [self.sequence(cursor), len(rows)],
                )
                ids = sorted(row[0] for row in cursor.fetchall())
                sql = self.copy_sql.format(columns=f"{self.pk}, ")
            else:
                sql = self.copy_sql.format(columns="")
            # The raw driver cursor: Django's wrapper has no COPY.
            with cursor.cursor.copy(sql) as copy:
                if returning:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row([pk, *self.prepare(row)])
                else:
                    for row in rows:
                        copy.write_row(self.prepare(row))
        return ids

    def sequence(self, cursor) -> str:
        if self._sequence is None:
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)",
                [self.model._meta.db_table, self.model._meta.pk.column],
            )
            self._sequence = cursor.fetchone()[0]
        return self._sequence

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
        rows = [self.values_of(obj) for obj in objects]
        for obj, pk in zip(objects, self.insert(rows), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias

    def values_of(self, obj: models.Model) -> Sequence[Any]:
        """The column values of `obj`, read from its __dict__ where they all are (a new
        instance's are), through getattr otherwise."""
        if len(self.columns) == 1:
            return [getattr(obj, self.columns[0])]
        try:
            return self._values_of(obj.__dict__)
        except KeyError:
            return [getattr(obj, name) for name in self.columns]


class StatisticsKeeper:
    """ANALYZE a table the import grows, each time it has grown by as much again.

    The duplicate lookups of each batch are key lookups only if the planner knows the table
    holds many distinct keys. PostgreSQL learns that from ANALYZE, which autovacuum runs long
    after an import has started; on a table that grew from nothing (or doubled) it plans a
    sequential scan per batch, and the import slows down with every batch. Loading data is
    followed by ANALYZE, as PostgreSQL's own advice on populating a database says; doing it
    as the table doubles costs a handful of runs however large the file. SQLite plans these
    lookups on the key index without statistics, so there is nothing to do there.
    """

    # Rows added before the first ANALYZE.
    FIRST = 5000

    def __init__(self, model: type[models.Model]):
        self.table = model._meta.db_table
        self.enabled = connection.vendor == "postgresql"
        self.added = 0
        self.known = 0

    def grew(self, rows: int) -> None:
        if not self.enabled or not rows:
            return
        self.added += rows
        if self.added < max(self.FIRST, self.known):
            return
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(self.table)}")
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [self.table])
            self.known = max(0, int(cursor.fetchone()[0]))
        self.added = 0


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
