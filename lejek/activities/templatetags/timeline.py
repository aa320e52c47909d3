from django import template

from lejek.activities.timeline import timeline_for

register = template.Library()


@register.inclusion_tag("activities/timeline_panel.html", takes_context=True)
def timeline_panel(context, subject):
    """The composer and the unified timeline of one record: `{% timeline_panel lead %}`."""
    return {"subject": subject, "entries": timeline_for(subject), "request": context.get("request")}
