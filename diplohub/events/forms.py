from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from diplohub.directory.models import Kind, Organization, Person, PostRole, Topic
from diplohub.directory.regions import Region

RATINGS = [
    (5, _("5 — Excellent")),
    (4, _("4 — Good")),
    (3, _("3 — Fair")),
    (2, _("2 — Poor")),
    (1, _("1 — Very poor")),
]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How would you rate this event?"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comments = forms.CharField(
        label=_("Comments"),
        help_text=_("Optional. What worked, what could be better (at most 4000 characters)."),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class AudienceForm(forms.Form):
    """Who an invitation goes to: a segment of the directory, named organisations and
    named people (see selectors.audience)."""

    kinds = forms.MultipleChoiceField(
        label=_("Kinds of organisation"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    regions = forms.MultipleChoiceField(
        label=_("Regions"),
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        label=_("Posts"),
        choices=PostRole.choices,
        required=False,
        help_text=_("Only people in these posts (e.g. heads of mission)."),
        widget=forms.CheckboxSelectMultiple,
    )
    organizations = forms.ModelMultipleChoiceField(
        label=_("Named organisations"),
        queryset=Organization.objects.order_by("sort_name"),
        required=False,
        help_text=_("Everyone holding a post there. Hold Ctrl (⌘) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    people = forms.ModelMultipleChoiceField(
        label=_("Named people"),
        queryset=Person.objects.order_by("family_name", "given_name"),
        required=False,
        help_text=_("Hold Ctrl (⌘) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        used = (
            Organization.objects.exclude(country="")
            .values_list("country", flat=True)
            .distinct()
            .order_by()
        )
        names = dict(countries)
        self.fields["countries"].choices = sorted(  # type: ignore[attr-defined]
            ((code, names.get(code, code)) for code in set(used)), key=lambda choice: choice[1]
        )

    def has_criteria(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


class InviteForm(forms.Form):
    """The people ticked in the preview."""

    person = forms.ModelMultipleChoiceField(
        queryset=Person.objects.all(),
        error_messages={"required": _("Tick at least one person to invite.")},
    )


class ColleagueForm(forms.Form):
    """A colleague of the same organisation, to take a seat in someone's place."""

    colleague = forms.ModelChoiceField(
        label=_("Colleague"),
        queryset=Person.objects.none(),
        empty_label=_("Choose a colleague"),
        error_messages={"invalid_choice": _("Choose one of the colleagues listed.")},
    )

    def __init__(self, *args: Any, colleagues: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = colleagues  # type: ignore[attr-defined]
