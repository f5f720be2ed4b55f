from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingConfig(AppConfig):
    name = "diplohub.mailing"
    label = "mailing"
    verbose_name = _("Mail")

    def ready(self) -> None:
        # Register the renderers: mailing.message; mailing.campaign and its test.
        from diplohub.mailing import campaign_emails, emails  # noqa: F401
