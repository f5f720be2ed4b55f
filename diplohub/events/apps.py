from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "diplohub.events"
    label = "events"
    verbose_name = _("Programme")

    def ready(self) -> None:
        from diplohub.events import emails  # noqa: F401  (registers the e-mail renderers)
        from diplohub.events.models import AgendaItem, Event, Registration, Series
        from diplohub.lib.pagecache import invalidate

        # As in the directory: cached public programme pages must not outlive a change,
        # whatever path made it. Registrations count too: the event page shows seats left.
        for model in (Event, AgendaItem, Series, Registration):
            post_save.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}"
            )
            post_delete.connect(
                invalidate, sender=model, dispatch_uid=f"pagecache-del-{model.__name__}"
            )
        for through in (Event.co_organisers.through, AgendaItem.speakers.through):
            m2m_changed.connect(
                invalidate, sender=through, dispatch_uid=f"pagecache-{through.__name__}"
            )
