from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lejek.api"
    label = "api"
