"""The role groups (staff, host, member) and what staff may do in the back office.

Hosts and members get nothing in the admin: their powers are in the pages (own
profile, own institution's page), checked by User methods.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.migrations.state import StateApps
from django.db.models import Q

ROLE_NAMES = ("staff", "host", "member")

STAFF_PERMISSIONS = (
    Q(content_type__app_label="directory")
    | Q(content_type__app_label="events")
    # Mail: policies, subscribers, the ledger, campaigns, the outbox; what may change is
    # limited by the admin classes (the ledger and the outbox are read-only there).
    | Q(content_type__app_label="mailing")
    # The knowledge hub: the catalogue, its vocabularies, moderation.
    | Q(content_type__app_label="knowledge")
    | Q(content_type__app_label="accounts", content_type__model="apitoken")
    | Q(content_type__app_label="accounts", codename="view_user")
)


def sync_role_groups(*, apps: Any = global_apps, using: str = "default") -> None:
    """Create the role groups and give staff their permissions. Safe to run again.

    Django makes permissions after the last migration; this makes them first, so it
    works on a fresh database (migration 0003) and after a flush (post_migrate), and
    it reaches the models that later migrations add.
    """
    for app_config in apps.get_app_configs():
        has_module = getattr(app_config, "models_module", None) is not None
        stub = isinstance(apps, StateApps) and not has_module
        if not has_module and not stub:
            continue  # an app without models
        if stub:
            # Migration states leave models_module unset, which create_permissions skips.
            app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, using=using, verbosity=0)
        finally:
            if stub:
                app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    groups = {
        name: group_model.objects.using(using).get_or_create(name=name)[0] for name in ROLE_NAMES
    }
    staff_permissions = permission_model.objects.using(using).filter(STAFF_PERMISSIONS)
    groups["staff"].permissions.add(*staff_permissions)


def sync_role_groups_after_migrate(*, using: str, apps: Any = global_apps, **_kwargs: Any) -> None:
    sync_role_groups(apps=apps, using=using)
