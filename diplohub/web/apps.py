from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "diplohub.web"
    label = "web"
