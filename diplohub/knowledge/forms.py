"""Forms of the knowledge hub.

# === PAGES: the public submission form, list filters, the admin's checked forms ====

Every form checks with the same functions as the services (validation.py), and the
admin's forms run the services' own checks on the instance they are about to save, so
a value the admin accepts is one the services accept, and the other way round.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from diplohub.directory.models import Topic
from diplohub.knowledge import services, validation
from diplohub.knowledge.models import (
    DevelopmentKind,
    InitiativeType,
    PublicationKind,
    ResponseType,
)
from diplohub.lib.widgets import FastSelect
from diplohub.mailing.forms import SINGLE_LINE

# Languages offered as boxes to tick on the submission form; others by code.
COMMON_LANGUAGES = ["en", "es", "ca", "fr", "pt", "it", "de", "nl", "ar", "zh-hans", "ja", "ko"]


def _language_choices() -> list[tuple[str, str]]:
    from django.utils.translation import get_language_info

    return [(code, str(get_language_info(code)["name_translated"])) for code in COMMON_LANGUAGES]


def _country_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((c.code, str(c.name)) for c in countries)]


class _Line(forms.CharField):
    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [SINGLE_LINE])
        super().__init__(max_length=max_length, **kwargs)


class MarkdownField(forms.CharField):
    """A Markdown text: HTML is refused with the reason, the text kept in the form."""

    widget = forms.Textarea

    def validate(self, value: Any) -> None:
        super().validate(value)
        validation.check_markdown(value)


class LinksField(forms.CharField):
    """Web and social-network addresses, one a line; the kind comes from the address."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[dict[str, str]]:  # type: ignore[override]
        lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
        return [{"kind": validation.link_kind_of(url), "url": url} for url in lines]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        validation.clean_links(value)


class SubmissionForm(forms.Form):
    """A partner city's or organisation's proposal of an initiative."""

    title = _Line(label=_("Name of the initiative"), max_length=300)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Two or three sentences: what it does, for whom, since when."),
    )
    body = MarkdownField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown: **bold**, *italics*, - lists, [links](https://…). No HTML."),
    )
    government = _Line(
        label=_("Name of the local or regional government"),
        max_length=255,
        help_text=_("e.g. Lisbon City Council"),
    )
    city = _Line(label=_("City"), max_length=120)
    country = forms.ChoiceField(label=_("Country"), widget=FastSelect)
    initiative_type = forms.ModelChoiceField(
        label=_("Type of initiative"), queryset=InitiativeType.objects.all(), empty_label="—"
    )
    response_types = forms.ModelMultipleChoiceField(
        label=_("Other types of response"),
        queryset=ResponseType.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages of the initiative"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_languages = _Line(
        label=_("Other languages"),
        max_length=100,
        required=False,
        help_text=_("ISO 639-1 codes separated by commas, e.g. eu, gl."),
    )
    links = LinksField(
        label=_("Website and social networks"),
        required=False,
        help_text=_("One address a line, e.g. https://city.example/science-diplomacy"),
    )
    contact_email = forms.EmailField(
        label=_("Public contact address"),
        required=False,
        help_text=_(
            "A role address of the organisation (e.g. international@city.example), not a "
            "person's own. The page hides it from scrapers."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    submitted_by_name = _Line(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    submitted_by_email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("Only the hub team sees it; we write to you when the initiative is published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    submitted_by_organization = _Line(
        label=_("Your organisation"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices()  # type: ignore[attr-defined]
        self.fields["languages"].choices = _language_choices()  # type: ignore[attr-defined]
        for field in self.fields.values():
            if field.required and not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["aria-required"] = "true"

    @property
    def is_from_a_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_other_languages(self) -> list[str]:
        return validation.clean_languages(self.cleaned_data.get("other_languages", ""))

    def clean_contact_email(self) -> str:
        address = self.cleaned_data.get("contact_email", "")
        validation.check_role_address(address, personal=[self.data.get("submitted_by_email", "")])
        return str(address)

    def all_languages(self) -> list[str]:
        data = self.cleaned_data
        codes = [*data.get("languages", []), *data.get("other_languages", [])]
        return list(dict.fromkeys(codes))

    # Errors of the service, by field of the model, shown next to this form's fields.
    FIELD_OF = {
        "title": "title",
        "summary": "summary",
        "body": "body",
        "languages": "other_languages",
        "links": "links",
        "start_date": None,
    }

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            base = name.rsplit("_", 1)[0] if name.rsplit("_", 1)[-1] in _codes() else name
            target = self.FIELD_OF.get(base, base)
            if target not in self.fields or target == "references":
                target = None
            for message in messages:
                self.add_error(target, message)


def _codes() -> set[str]:
    return set(validation.hub_languages())


class ReferenceForm(forms.Form):
    """One reference of a submission; a row left empty is skipped."""

    outlet = _Line(label=_("Outlet"), max_length=200, required=False)
    title = _Line(label=_("Title"), max_length=300, required=False)
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2020-03-26.")},
    )
    language = _Line(
        label=_("Language"), max_length=8, required=False, help_text=_("e.g. en, es, fr")
    )
    url = forms.URLField(label=_("Address"), max_length=500, required=False)

    def clean_date(self) -> Any:
        value = self.cleaned_data.get("date")
        validation.check_date(value)
        return value

    def clean_language(self) -> str:
        code = str(self.cleaned_data.get("language") or "").strip().lower()
        if code:
            validation.check_language_code(code)
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [name for name in ("outlet", "title", "url") if data.get(name)]
        if filled and len(filled) < 3:
            for name in ("outlet", "title", "url"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("A reference needs its outlet, title and address."))
        return data

    def reference(self) -> services.ReferenceIn | None:
        data = self.cleaned_data
        if not (data.get("outlet") and data.get("title") and data.get("url")):
            return None
        return services.ReferenceIn(
            outlet=data["outlet"],
            title=data["title"],
            url=data["url"],
            date=data.get("date"),
            language=data.get("language", ""),
        )


ReferenceFormSet = forms.formset_factory(ReferenceForm, extra=3, max_num=10, absolute_max=10)


class InitiativeFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Type of initiative"), required=False)
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False, widget=FastSelect)

    def __init__(self, *args: Any, countries_in_use: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["type"].choices = everything + [  # type: ignore[attr-defined]
            (t.slug, t.name) for t in InitiativeType.objects.all()
        ]
        self.fields["topic"].choices = everything + [  # type: ignore[attr-defined]
            (t.slug, t.name) for t in Topic.objects.all()
        ]
        names = dict(countries)
        self.fields["country"].choices = everything + sorted(  # type: ignore[attr-defined]
            ((code, str(names.get(code, code))) for code in countries_in_use or []),
            key=lambda pair: pair[1],
        )


class KindFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All")), *choices]  # type: ignore[attr-defined]


def development_kinds() -> list[tuple[str, Any]]:
    return list(DevelopmentKind.choices)


def publication_kinds() -> list[tuple[str, Any]]:
    return list(PublicationKind.choices)


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(services.PUBLISH, "publish"), (services.REJECT, "reject")]
    )
    reason = forms.CharField(
        label=_("Reason, for the submitter"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- The admin's forms: the services' own checks, shown on the form ----------------------


class CheckedAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Runs services.item_errors on the instance the admin is about to save."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        try:
            problems = services.item_errors(item=self.instance)
        except (ValueError, TypeError, AttributeError, ObjectDoesNotExist):
            return  # a half-filled instance: the field errors already say why
        for name, messages in problems.items():
            if name in self.errors:
                continue
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class ImageAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean_image(self) -> Any:
        upload = self.cleaned_data.get("image")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            validation.check_image(upload)
        return upload


class PublicationAdminForm(CheckedAdminForm):
    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            validation.check_pdf(upload)
        return upload


def default_language() -> str:
    return str(settings.LANGUAGE_CODE)
