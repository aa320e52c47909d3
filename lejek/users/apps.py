from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "lejek.users"
    label = "users"
