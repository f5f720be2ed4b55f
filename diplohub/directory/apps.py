from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "diplohub.directory"
    label = "directory"
