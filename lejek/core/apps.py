from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lejek.core"
    label = "core"

    def ready(self) -> None:
        # The empty choice of every select: a dash, as Lejek's own selects show it, in any
        # language (Django's "- Select an option -" has no Polish translation).
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = "—"
