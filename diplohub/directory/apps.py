from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "diplohub.directory"
    label = "directory"
    verbose_name = _("Directory")

    def ready(self) -> None:
        from diplohub.directory.models import Membership, Organization, Person, Post, Topic
        from diplohub.lib.pagecache import invalidate

        # The one use of signals here: whatever path changes the directory (admin,
        # services, importers, shell), cached public pages must not outlive it.
        for model in (Organization, Person, Post, Membership, Topic):
            post_save.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}"
            )
            post_delete.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-del-{model.__name__}"
            )
        m2m_changed.connect(
            invalidate, sender=Organization.topics.through, dispatch_uid="pagecache-topics"
        )
