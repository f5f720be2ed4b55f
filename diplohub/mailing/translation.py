from modeltranslation.translator import TranslationOptions, register

from diplohub.mailing.models import Campaign, PolicyDocument


@register(PolicyDocument)
class PolicyDocumentTranslation(TranslationOptions):
    fields = ("title", "body")


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = ("subject", "body")
