from functools import cache

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from diplohub.directory.models import (
    DIPLOMATIC_KINDS,
    ECOSYSTEM_KINDS,
    Kind,
    Organization,
    Topic,
)
from diplohub.directory.regions import Region
from diplohub.lib.widgets import FastSelect


@cache
def _country_choices(language: str) -> list[tuple[str, str]]:
    """Countries sorted by their name in the language: built once per language."""
    return [("", str(_("All countries"))), *((c.code, str(c.name)) for c in countries)]


class DirectoryFilterForm(forms.Form):
    """The filters of the diplomatic-community and ecosystem pages (also used by the API)."""

    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), required=False, widget=FastSelect)
    region = forms.ChoiceField(
        label=_("Region"),
        required=False,
        choices=[("", _("All regions")), *Region.choices],
        widget=FastSelect,
    )
    country = forms.ChoiceField(label=_("Country"), required=False, widget=FastSelect)
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        required=False,
        queryset=Topic.objects.all(),
        to_field_name="slug",
        empty_label=_("All topics"),
        widget=FastSelect,
    )

    def __init__(self, *args, side: str | None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # The API may list both sides at once (side=None); each page lists one.
        kinds = {"diplomatic": DIPLOMATIC_KINDS, "ecosystem": ECOSYSTEM_KINDS}.get(
            side or "", tuple(Kind)
        )
        kind_choices = [("", _("All kinds")), *((k.value, Kind(k).label) for k in kinds)]
        self.fields["kind"].choices = kind_choices  # type: ignore[attr-defined]
        self.fields["country"].choices = _country_choices(get_language())  # type: ignore[attr-defined]

    def filter(self, queryset):  # type: ignore[no-untyped-def]
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.search(data["q"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["region"]:
            queryset = queryset.in_region(data["region"])
        if data["country"]:
            queryset = queryset.filter(country=data["country"])
        if data["topic"]:
            queryset = queryset.filter(topics=data["topic"])
        return queryset


class OrganizationContentForm(forms.ModelForm):
    """What a host may change on their own institution's page."""

    class Meta:
        model = Organization
        fields = [
            *(f"description_{code}" for code, _name in settings.LANGUAGES),
            "website",
            "topics",
        ]
        widgets = {"topics": forms.CheckboxSelectMultiple}
