from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingConfig(AppConfig):
    name = "diplohub.mailing"
    label = "mailing"
    verbose_name = _("Mail")

    def ready(self) -> None:
        from diplohub.mailing import emails  # noqa: F401  (registers mailing.message)
