"""The source and campaign stamped on imported leads.

Defaults come from the job (`{"source": 3, "campaign": 7}` by id, or names) or from
`{"event": "Targi 2026"}`, which means: the campaign of that name, from an event-kind source.
Anything missing is created through the lead services on first use, inside the batch's
transaction (so a dry run creates nothing). Without any default, leads come from the
import-kind source "Import".
"""

from __future__ import annotations

from typing import Any

from lejek.core.events import record_event
from lejek.imports.references import References
from lejek.imports.rows import folded
from lejek.leads.models import Campaign, Source
from lejek.leads.services import campaign_create, source_create

IMPORT_SOURCE = "Import"
EVENT_SOURCE = "Events"


def ensure_source(actor, name: str, kind: str) -> Source:
    existing = Source.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    if actor is None:
        source = Source.objects.create(name=name, kind=kind)
        record_event(actor=None, verb="source.created", obj=source, after={"name": name})
        return source
    return source_create(actor=actor, name=name, kind=kind)


def ensure_campaign(actor, name: str, source: Source | None) -> Campaign:
    existing = Campaign.objects.filter(name__iexact=name).select_related("source").first()
    if existing is not None:
        return existing
    if actor is None:
        campaign = Campaign.objects.create(name=name, source=source)
        record_event(actor=None, verb="campaign.created", obj=campaign, after={"name": name})
        return campaign
    return campaign_create(actor=actor, name=name, source=source)


class SourceDefaults:
    def __init__(self, actor, defaults: dict[str, Any], refs: References):
        self.actor = actor
        self.defaults = defaults
        self.refs = refs
        self._cache: dict[str, Any] = {}

    def forget(self) -> None:
        """After a rolled-back batch: what it created is gone."""
        self._cache = {}

    def campaign(self) -> Campaign | None:
        if "campaign" not in self._cache:
            self._cache["campaign"] = self._default_campaign()
        return self._cache["campaign"]

    def source_for(self, campaign: Campaign | None) -> Source:
        if campaign is not None and campaign.source_id:
            return self.refs.source_by_id.get(campaign.source_id) or campaign.source
        if "source" not in self._cache:
            self._cache["source"] = self._default_source()
        return self._cache["source"]

    def _default_campaign(self) -> Campaign | None:
        value = self.defaults.get("campaign") or self.defaults.get("event")
        if not value:
            return None
        if isinstance(value, int) or str(value).isdigit():
            return Campaign.objects.select_related("source").get(pk=int(value))
        found = self.refs.campaigns.get(folded(value))
        if found is not None:
            return found
        source = self._default_source() if self.defaults.get("source") else None
        if source is None and self.defaults.get("event"):
            source = ensure_source(self.actor, EVENT_SOURCE, Source.Kind.EVENT)
        return ensure_campaign(self.actor, str(value), source)

    def _default_source(self) -> Source:
        value = self.defaults.get("source")
        if isinstance(value, int) or (value and str(value).isdigit()):
            return Source.objects.get(pk=int(value))
        if value:
            found = self.refs.sources.get(folded(value))
            kind = Source.Kind.EVENT if self.defaults.get("event") else Source.Kind.IMPORT
            return found or ensure_source(self.actor, str(value), kind)
        if self.defaults.get("event"):
            return ensure_source(self.actor, EVENT_SOURCE, Source.Kind.EVENT)
        return ensure_source(self.actor, IMPORT_SOURCE, Source.Kind.IMPORT)
