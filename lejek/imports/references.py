"""Names in a file (owners, teams, sources, campaigns, pipelines, stages, products) resolved
to records, from dictionaries loaded once per import."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from lejek.contacts.models import Company
from lejek.contacts.normalize import company_key
from lejek.imports.rows import folded
from lejek.leads.models import Campaign, Source
from lejek.pipeline.models import Pipeline, Stage
from lejek.sales.models import Product
from lejek.users.models import Team, User


def _unknown(message: str, value: Any) -> ValidationError:
    return ValidationError(message % {"value": value})


class References:
    def __init__(self):
        self.users: dict[str, User] = {}
        for user in User.objects.filter(is_active=True).order_by("id"):
            self.users.setdefault(folded(user.email), user)
            self.users.setdefault(folded(user.get_full_name()), user)
        self.teams = {folded(team.name): team for team in Team.objects.all()}
        self.team_by_id = {team.pk: team for team in self.teams.values()}
        self.sources = {folded(s.name): s for s in Source.objects.all()}
        self.source_by_id = {s.pk: s for s in self.sources.values()}
        self.campaigns = {folded(c.name): c for c in Campaign.objects.all()}
        self.pipelines = {folded(p.name): p for p in Pipeline.objects.all()}
        self.default_pipeline = (
            Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        )
        self.stages: dict[int, list[Stage]] = {}
        for stage in Stage.objects.order_by("pipeline_id", "position"):
            self.stages.setdefault(stage.pipeline_id, []).append(stage)
        self._products: dict[str, Product] | None = None

    def user(self, value: Any) -> User:
        found = self.users.get(folded(value))
        if found is None:
            raise _unknown(_("No active user has the e-mail or name “%(value)s”."), value)
        return found

    def team(self, value: Any) -> Team:
        found = self.teams.get(folded(value))
        if found is None:
            raise _unknown(_("No team is called “%(value)s”."), value)
        return found

    def source(self, value: Any) -> Source:
        found = self.sources.get(folded(value))
        if found is None:
            raise _unknown(_("No source is called “%(value)s”."), value)
        return found

    def campaign(self, value: Any) -> Campaign:
        found = self.campaigns.get(folded(value))
        if found is None:
            raise _unknown(_("No campaign is called “%(value)s”."), value)
        return found

    def pipeline(self, value: Any) -> Pipeline:
        found = self.pipelines.get(folded(value))
        if found is None:
            raise _unknown(_("No pipeline is called “%(value)s”."), value)
        return found

    def stage(self, pipeline: Pipeline, value: Any) -> Stage:
        for stage in self.stages.get(pipeline.pk, []):
            if folded(stage.name) == folded(value):
                return stage
        raise ValidationError(
            _("Pipeline “%(pipeline)s” has no stage “%(value)s”.")
            % {"pipeline": pipeline.name, "value": value}
        )

    def products(self, names: list[str]) -> list[Product]:
        if self._products is None:
            self._products = {}
            for product in Product.objects.order_by("id"):
                self._products.setdefault(folded(product.sku), product)
                self._products.setdefault(folded(product.name), product)
        found, missing = [], []
        for name in names:
            product = self._products.get(folded(name))
            if product is None:
                missing.append(name)
            else:
                found.append(product)
        if missing:
            raise ValidationError(
                _("No product with the name or SKU: %(names)s.") % {"names": ", ".join(missing)}
            )
        return found


# Company names whose key is remembered (as many as a large file's distinct names); beyond
# that, keys are computed again.
KEY_CACHE = 1 << 16


class CompanyIndex:
    """The companies an import may link to or match, by NIP, domain and name key.

    Loaded once (ids and keys only, oldest first so the oldest wins like find_company), then
    kept up to date with the companies the import itself creates.
    """

    def __init__(self, rows):
        self.by_nip: dict[str, int] = {}
        self.by_domain: dict[str, int] = {}
        self.by_key: dict[str, int] = {}
        # Company names repeat across rows; their key is worth computing once.
        self._keys: dict[str, str] = {}
        values = rows.order_by("created_at", "pk").values_list("pk", "name", "nip", "domain")
        for pk, name, nip, domain in values.iterator(chunk_size=5000):
            self.add(pk, name=name, nip=nip, domain=domain)

    def key(self, name: str) -> str:
        key = self._keys.get(name)
        if key is None:
            key = company_key(name) if re.search(r"\w", name or "") else ""
            if len(self._keys) < KEY_CACHE:
                self._keys[name] = key
        return key

    def add(self, pk: int, *, name: str = "", nip: str = "", domain: str = "") -> None:
        if nip:
            self.by_nip.setdefault(nip, pk)
        if domain:
            self.by_domain.setdefault(domain, pk)
        key = self.key(name)
        if key:
            self.by_key.setdefault(key, pk)

    def find(self, *, nip: str = "", domain: str = "", name: str = "") -> int | None:
        if nip and nip in self.by_nip:
            return self.by_nip[nip]
        if domain and domain in self.by_domain:
            return self.by_domain[domain]
        if not name or not self.by_key:
            # Nothing to match a name against: its key (the costly part) is not needed.
            return None
        key = self.key(name)
        return self.by_key.get(key) if key else None


def visible_companies(actor):
    return Company.objects.all() if actor is None else Company.objects.visible_to(actor)
