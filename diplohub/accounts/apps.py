from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "diplohub.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from diplohub.accounts.roles import sync_role_groups_after_migrate

        # Like Django's own permissions: kept in place after every migrate and flush
        # (tests that flush the database would otherwise lose the staff permissions).
        post_migrate.connect(
            sync_role_groups_after_migrate, sender=self, dispatch_uid="diplohub-role-groups"
        )
