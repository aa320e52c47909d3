from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "lejek.scoring"
    label = "scoring"
    verbose_name = _("Lead scoring")

    def ready(self) -> None:
        # Assignment rules may test the scores; leads cannot import scoring, so it is told how.
        from lejek.leads import scores
        from lejek.scoring.routing import make_scorer

        scores.register(make_scorer)
