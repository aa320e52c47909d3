from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "lejek.activities"
    label = "activities"
