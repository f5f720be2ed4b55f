from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "diplohub.accounts"
    label = "accounts"
