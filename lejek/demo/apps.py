from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The deterministic demo data set and its `demo` command. No models of its own."""

    name = "lejek.demo"
    label = "demo"
    verbose_name = "Demo data"
