from modeltranslation.translator import TranslationOptions, register

from diplohub.events.models import AgendaItem, Event, Series


@register(Series)
class SeriesTranslation(TranslationOptions):
    fields = ("name",)


# The historical twin gets the per-language columns too (see directory/translation.py).
@register([Event, Event.history.model])  # type: ignore[attr-defined]
class EventTranslation(TranslationOptions):
    fields = ("title", "summary", "description", "practical_notes")


@register(AgendaItem)
class AgendaItemTranslation(TranslationOptions):
    fields = ("title",)
