from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "diplohub.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge hub")

    def ready(self) -> None:
        # === PAGES: e-mail renderers and the visitors' page cache ===
        from diplohub.knowledge import emails  # noqa: F401  (registers the e-mail renderers)
        from diplohub.knowledge.models import (
            Development,
            Initiative,
            InitiativeImage,
            InitiativeType,
            PressItem,
            Publication,
            Reference,
            ResponseType,
            SimilarInitiative,
            Slug,
            WorkingGroup,
            WorkingGroupMember,
        )
        from diplohub.lib.pagecache import invalidate

        # As in the directory and the programme: cached public pages must not outlive a
        # change, whatever path made it. Bulk writes (the similarity job's) send no
        # signals: they call pagecache.invalidate() themselves.
        models = (
            Initiative,
            Reference,
            InitiativeImage,
            SimilarInitiative,
            Development,
            WorkingGroup,
            WorkingGroupMember,
            Publication,
            PressItem,
            Slug,
            InitiativeType,
            ResponseType,
        )
        for model in models:
            post_save.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-save-k-{model.__name__}"
            )
            post_delete.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-del-k-{model.__name__}"
            )
        throughs = {
            field.remote_field.through  # type: ignore[union-attr]
            for model in (Initiative, Development, WorkingGroup, Publication, PressItem)
            for field in model._meta.many_to_many
        }
        for through in throughs:
            m2m_changed.connect(
                invalidate, sender=through, dispatch_uid=f"pagecache-k-{through.__name__}"
            )
        # === end PAGES ===
