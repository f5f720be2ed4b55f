from modeltranslation.translator import TranslationOptions, register

from diplohub.directory.models import Organization, Post, Topic


@register(Topic)
class TopicTranslation(TranslationOptions):
    fields = ("name",)


# The historical twins (django-simple-history) get the same per-language columns, so a
# history row records what the page said in every language.
@register([Organization, Organization.history.model])  # type: ignore[attr-defined]
class OrganizationTranslation(TranslationOptions):
    fields = ("name", "description")


@register([Post, Post.history.model])  # type: ignore[attr-defined]
class PostTranslation(TranslationOptions):
    fields = ("label",)
