"""The score panel on a lead's page: `{% load scoring %}{% lead_score_panel lead %}`."""

from __future__ import annotations

from typing import Any

from django import template

from lejek.scoring.compute import engagement_label
from lejek.scoring.features import label_of
from lejek.scoring.models import LeadScore

register = template.Library()


def _explanation(stored: list[dict]) -> list[dict]:
    lines = []
    for item in stored:
        label = item["label"]
        if item.get("kind") == "engagement":
            label = engagement_label(label)
        lines.append({"kind": item.get("kind"), "label": label, "points": item["points"]})
    return lines


def _factors(stored: list[dict]) -> list[dict]:
    """Labels in the reader's language where the field is a standard one."""
    factors = []
    for item in stored:
        name = item.get("feature", "")
        label = label_of(name, {"custom_labels": {name: item.get("label", name)}})
        effect = float(item.get("effect", 0))
        factors.append({"label": label, "value": item.get("value", ""), "up": effect > 0})
    return factors


def panel_context(lead) -> dict[str, Any]:
    scored = LeadScore.objects.filter(lead_id=lead.pk).first()
    if scored is None:
        return {"lead": lead, "scored": None}
    return {
        "lead": lead,
        "scored": scored,
        "lines": _explanation(scored.explanation or []),
        "factors": _factors(scored.factors or []),
        "percent": None if scored.probability is None else round(scored.probability * 100),
    }


@register.inclusion_tag("scoring/score_panel.html")
def lead_score_panel(lead):
    """The lead's score, the rules that made it, and its win probability with factors."""
    return panel_context(lead)
