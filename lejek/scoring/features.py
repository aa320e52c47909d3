"""What the predictive model sees of a lead: one flat record per lead, then two matrices.

A record is a plain dict, so leads from the database and the synthetic generator go through
the same code: {"source", "campaign", "medium", "utm_source", "country", "region", "title",
"email_kind", "company_size", "custom": {...}, "counts": {kind: n}, "last_days": float|None}.

A rescore does not build records: `batch_inputs` reads the same fields column by column from
a batch, as codes into each column's distinct values, so categories, numbers and shown values
are worked out once per distinct value with the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lejek.core.models import CustomField
from lejek.scoring.models import EngagementKind
from lejek.scoring.rules import Lookups, email_kind, factorize

if TYPE_CHECKING:
    from lejek.scoring.compute import EngagementArrays

MISSING = "(none)"
CATEGORICAL = ("source", "campaign", "medium", "utm_source", "country", "region", "title")
DERIVED_CATEGORICAL = ("email_kind",)
ENGAGEMENT_KINDS = tuple(EngagementKind.values)
LABELS = {
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
    "medium": gettext_lazy("Medium"),
    "utm_source": "utm_source",
    "country": gettext_lazy("Country"),
    "region": gettext_lazy("Region"),
    "title": gettext_lazy("Job title"),
    "email_kind": gettext_lazy("E-mail kind (free or corporate)"),
    "company_size": gettext_lazy("Company size"),
    "last_days": gettext_lazy("Days since the last engagement"),
}


def count_feature(kind: str) -> str:
    return f"n_{kind}"


def label_of(name: str, spec: dict) -> str:
    if name in LABELS:
        return str(LABELS[name])
    if name.startswith("n_"):
        kind = name.removeprefix("n_")
        return _("Number of: %(kind)s") % {
            "kind": str(EngagementKind(kind).label) if kind in ENGAGEMENT_KINDS else kind
        }
    return spec.get("custom_labels", {}).get(name, name)


def build_spec(custom_fields: Sequence[tuple[str, str, str]] = ()) -> dict:
    """Which columns the model uses; custom fields are (key, type, label) triples."""
    categorical = [*CATEGORICAL, *DERIVED_CATEGORICAL]
    numeric = ["company_size", *(count_feature(k) for k in ENGAGEMENT_KINDS), "last_days"]
    labels = {}
    for key, kind, label in custom_fields:
        name = f"custom.{key}"
        labels[name] = label
        if kind in (CustomField.Type.NUMBER, CustomField.Type.DECIMAL):
            numeric.append(name)
        elif kind in (CustomField.Type.TEXT, CustomField.Type.CHOICE, CustomField.Type.BOOLEAN):
            categorical.append(name)
    return {"categorical": categorical, "numeric": numeric, "custom_labels": labels}


def spec_from_database() -> dict:
    rows = CustomField.objects.filter(entity=CustomField.Entity.LEAD).values_list(
        "key", "type", "label"
    )
    return build_spec(list(rows))


def record_from_row(
    row: dict[str, Any], lookups: Lookups, counts: dict[str, int], last_days: float | None
) -> dict[str, Any]:
    """A lead row (rules.LEAD_COLUMNS) and its engagement summary as a model record."""
    source = lookups.sources.get(row["source_id"])
    campaign = lookups.campaigns.get(row["campaign_id"])
    return {
        "source": source.name if source else "",
        "campaign": campaign.name if campaign else "",
        "medium": row["medium"],
        "utm_source": row["utm_source"],
        "country": row["country"],
        "region": row["region"],
        "title": row["title"],
        "email_kind": email_kind(row["email"]),
        "company_size": row["company_size"],
        "custom": row["custom"] or {},
        "counts": counts,
        "last_days": last_days,
    }


def category(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    return str(value).strip().casefold()[:100] or MISSING


def number(value: Any) -> float:
    """log1p of a non-negative amount (sizes, counts, budgets spread over decades); nan if none."""
    if value is None or value == "" or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    if not math.isfinite(number):
        return math.nan
    return math.log1p(number) if number >= 0 else -math.log1p(-number)


def _raw(record: dict[str, Any], name: str) -> Any:
    if name.startswith("custom."):
        return record["custom"].get(name.removeprefix("custom."))
    if name.startswith("n_"):
        return record["counts"].get(name.removeprefix("n_"), 0)
    return record.get(name)


def _column(records: Sequence[dict[str, Any]], name: str) -> list[Any]:
    """One field of every record; the name is looked at once, not once per record."""
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return [r["custom"].get(key) for r in records]
    if name.startswith("n_"):
        kind = name.removeprefix("n_")
        return [r["counts"].get(kind, 0) for r in records]
    return [r.get(name) for r in records]


def matrices(records: Sequence[dict[str, Any]], spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """(categorical strings n x c as objects, numbers n x k as floats with nan for missing)."""
    n = len(records)
    cat = np.empty((n, len(spec["categorical"])), dtype=object)
    for j, name in enumerate(spec["categorical"]):
        seen: dict[Any, str] = {}
        column = []
        for value in _column(records, name):
            key = _typed_key(value)
            text = seen.get(key)
            if text is None:
                text = seen[key] = category(value)
            column.append(text)
        cat[:, j] = column
    num = np.empty((n, len(spec["numeric"])), dtype=float)
    for j, name in enumerate(spec["numeric"]):
        num[:, j] = [number(value) for value in _column(records, name)]
    return cat, num


def combined(cat: np.ndarray, num: np.ndarray) -> np.ndarray:
    """One object matrix for the ColumnTransformer: categorical columns first."""
    out = np.empty((cat.shape[0], cat.shape[1] + num.shape[1]), dtype=object)
    out[:, : cat.shape[1]] = cat
    out[:, cat.shape[1] :] = num
    return out


def shown_value(record: dict[str, Any], name: str) -> str:
    return shown(_raw(record, name))


def shown(value: Any) -> str:
    """A field's value as the factors list shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


# A batch, column by column ------------------------------------------------------------------


@dataclass
class Column:
    """One model input over a batch: each lead's code into `values`, the distinct raw values."""

    codes: np.ndarray
    values: list[Any]


def _typed_key(value: Any) -> tuple:
    # By type too: True and 1 are equal keys but different categories and numbers.
    return (type(value), value if isinstance(value, str | int | float) else str(value))


def _needs_types(values: list[Any]) -> bool:
    """Whether equal-but-different values (True and 1, 1 and 1.0) or unhashable ones occur."""
    types = set(map(type, values))
    return not (types <= {str, type(None), int} or types <= {str, type(None), float})


def _coded(values: list[Any], typed: bool) -> Column:
    if not typed or not _needs_types(values):
        codes, keys = factorize(values)
        return Column(codes, keys)
    codes, keys = factorize([_typed_key(value) for value in values])
    first: dict[int, Any] = {}
    for position, code in enumerate(codes.tolist()):
        if code not in first:
            first[code] = values[position]
            if len(first) == len(keys):
                break
    return Column(codes, [first[code] for code in range(len(keys))])


def _names(ids: list[Any], by_id: dict) -> Column:
    codes, distinct = factorize(ids)
    found = [by_id.get(pk) for pk in distinct]
    return Column(codes, [item.name if item else "" for item in found])


def batch_inputs(
    columns: dict[str, list], lookups: Lookups, engagement: EngagementArrays, spec: dict
) -> list[Column]:
    """The model's inputs for a batch (rules.LEAD_COLUMNS columns and its engagement), in the
    spec's order: categorical columns, then numeric ones. Same values as `record_from_row`."""
    n = len(columns["id"])
    out = []
    for name in [*spec["categorical"], *spec["numeric"]]:
        if name == "source":
            out.append(_names(columns["source_id"], lookups.sources))
        elif name == "campaign":
            out.append(_names(columns["campaign_id"], lookups.campaigns))
        elif name.startswith("custom."):
            key = name.removeprefix("custom.")
            out.append(_coded([custom.get(key) for custom in columns["custom"]], typed=True))
        elif name.startswith("n_"):
            kind = name.removeprefix("n_")
            if kind in engagement.kinds:
                counts = engagement.counts[:, engagement.kinds.index(kind)]
                values, codes = np.unique(counts, return_inverse=True)
                out.append(Column(codes.reshape(-1), values.tolist()))
            else:
                out.append(Column(np.zeros(n, dtype=np.intp), [0]))
        elif name == "last_days":
            days = engagement.last_days
            values = [None if d != d else d for d in days.tolist()]  # nan: never engaged
            out.append(Column(np.arange(n), values))
        elif name in columns:
            # Lead columns hold text or whole numbers (never booleans): plain keys will do.
            out.append(_coded(columns[name], typed=False))
        else:
            out.append(Column(np.zeros(n, dtype=np.intp), [None]))
    return out
