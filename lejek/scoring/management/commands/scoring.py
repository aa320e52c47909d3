"""`lejek scoring train` and `lejek scoring rescore`: the scoring work, in the foreground."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Train the predictive lead-scoring model, or recompute every lead's score."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("train", help="train a new predictive model from known outcomes")
        rescore = commands.add_parser("rescore", help="recompute the scores of all leads")
        rescore.add_argument("--batch", type=int, default=2000, help="leads per batch")

    def handle(self, *args, action: str, **options) -> None:
        if action == "train":
            self.train()
        else:
            self.rescore(options["batch"])

    def train(self) -> None:
        from lejek.scoring.models import ScoringSettings
        from lejek.scoring.services import model_train

        model = model_train(actor=None)
        if model is None:
            self.stdout.write(ScoringSettings.current().training_note)
            return
        self.stdout.write(
            f"Model v{model.version}: {model.n_samples} outcomes ({model.n_positive} won), "
            f"AUC {model.auc:.3f}, calibration error {model.ece:.3f}, "
            f"Brier {model.brier:.3f}, {model.training_seconds:.1f} s"
        )

    def rescore(self, batch: int) -> None:
        from lejek.scoring.services import rescore_all

        started = time.perf_counter()
        done = rescore_all(batch=batch)
        seconds = time.perf_counter() - started
        self.stdout.write(f"Rescored {done} leads in {seconds:.1f} s")
