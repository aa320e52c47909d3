from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lejek.core"
    label = "core"
