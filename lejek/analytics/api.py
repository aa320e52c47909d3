"""The funnel figures over the JSON API: the same tables, filters and visibility as /reports/."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from lejek.analytics.figures import FIGURES
from lejek.analytics.scope import GRAINS, PERIODS, Scope, scope_from
from lejek.api import problems
from lejek.api.schemas import responses

router = Router(tags=["analytics"])


class FigureInfo(Schema):
    key: str
    title: str
    section: str


class FigureList(Schema):
    items: list[FigureInfo]


class ScopeParams(Schema):
    """The dashboard's filters. Values are checked as the dashboard checks them, and every
    invalid one is reported (422) rather than silently ignored."""

    period: str | None = Field(
        None, description="One of: " + ", ".join(key for key, _label in PERIODS) + "."
    )
    start: str | None = Field(None, description="First day (YYYY-MM-DD), with period=custom.")
    end: str | None = Field(None, description="Last day (YYYY-MM-DD), with period=custom.")
    grain: str | None = Field(
        None, description="One of: " + ", ".join(key for key, _label in GRAINS) + "."
    )
    pipeline: str | None = Field(None, description="A pipeline id.")
    team: str | None = Field(None, description="A team id.")
    owner: str | None = Field(None, description="A user id (the rep).")
    source: str | None = Field(None, description="A source id.")
    campaign: str | None = Field(None, description="A campaign id.")
    segment: str | None = Field(None, description="A custom field and its value: `key=value`.")
    split: str | None = Field(
        None, description="A custom field key: splits customers in `clv_by_segment`."
    )


class FigureOut(Schema):
    scope: dict[str, Any]
    figure: dict[str, Any]


def _title(key: str) -> str:
    doc = (FIGURES[key].compute.__doc__ or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else key


@router.get("/", response=responses({200: FigureList}))
def list_figures(request: HttpRequest):
    """Every figure there is, in dashboard order, with its section."""
    return {
        "items": [
            {"key": figure.key, "title": _title(figure.key), "section": figure.section}
            for figure in FIGURES.values()
        ]
    }


def scope_json(scope: Scope) -> dict[str, Any]:
    """The scope actually used: the defaults filled in, the period's dates spelled out."""

    def pk(value) -> int | None:
        return value.pk if value is not None else None

    return {
        "period": scope.period,
        "start": scope.start.isoformat(),
        "end": scope.end.isoformat(),
        "grain": scope.grain,
        "pipeline": pk(scope.pipeline),
        "team": pk(scope.team),
        "owner": pk(scope.owner),
        "source": pk(scope.source),
        "campaign": pk(scope.campaign),
        "segment": f"{scope.segment[0]}={scope.segment[1]}" if scope.segment else None,
        "split": scope.split,
        "currency": scope.currency,
    }


@router.get("/{key}", response=responses({200: FigureOut}))
def get_figure(request: HttpRequest, key: str, params: Query[ScopeParams]):
    """One figure's table for the filters given, as the user calling may see it."""
    figure = FIGURES.get(key)
    if figure is None:
        raise Http404(_("There is no such report."))
    scope, form = scope_from(request.GET, request.auth)
    if form.errors:
        return problems.validation_problem(
            [
                {"field": None if name == "__all__" else name, "message": message}
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    return {"scope": scope_json(scope), "figure": figure.compute(scope).as_json()}
