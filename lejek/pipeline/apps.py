from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "lejek.pipeline"
    label = "pipeline"
