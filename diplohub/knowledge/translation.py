from modeltranslation.translator import TranslationOptions, register

from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeImage,
    InitiativeType,
    PressItem,
    Publication,
    ResponseType,
    WorkingGroup,
)


@register([Initiative, WorkingGroup, Publication])
class ItemTranslation(TranslationOptions):
    fields = ("title", "summary", "body")


@register(Development)
class DevelopmentTranslation(TranslationOptions):
    fields = ("title", "summary", "body", "phase")  # "Phase III, completed" is prose


@register(PressItem)
class PressItemTranslation(TranslationOptions):
    # The article's title stays as the outlet printed it; the hub's note is translated.
    fields = ("summary",)


@register([InitiativeType, ResponseType])
class VocabularyTranslation(TranslationOptions):
    fields = ("name",)


@register(InitiativeImage)
class ImageTranslation(TranslationOptions):
    fields = ("alt",)
