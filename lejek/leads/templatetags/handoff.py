"""The hand-off box and the lifecycle history on a lead's page:
`{% load handoff %}{% lead_handoff_panel lead %}` and `{% lead_lifecycle_panel lead %}`."""

from __future__ import annotations

from typing import Any

from django import template

from lejek.leads.handoff import lead_handoff_context

register = template.Library()


def _context(context, lead) -> dict[str, Any]:
    """Built once per page and shared by both panels."""
    key = f"_handoff_{lead.pk}"
    if key not in context.render_context:
        context.render_context[key] = lead_handoff_context(context["request"].user, lead)
    return {**context.render_context[key], "request": context["request"]}


@register.inclusion_tag("leads/handoff_panel.html", takes_context=True)
def lead_handoff_panel(context, lead):
    """The waiting hand-off with its deadline and answer buttons, or sales' rejection."""
    return _context(context, lead)


@register.inclusion_tag("leads/handoff_lifecycle.html", takes_context=True)
def lead_lifecycle_panel(context, lead):
    """Every change of the lead's status: from, to, who and when."""
    return _context(context, lead)
