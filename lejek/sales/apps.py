from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "lejek.sales"
    label = "sales"
