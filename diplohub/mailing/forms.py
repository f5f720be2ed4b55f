from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from diplohub.directory.models import Kind, Topic
from diplohub.lib.widgets import FastSelect
from diplohub.mailing import services
from diplohub.mailing.audience import MEMBERS, SUBSCRIBERS, Audience

# === Joining the network: sign-up, preferences, consents, personal data ==============

# Names go into mail headers and greetings: one line, no control characters.
SINGLE_LINE = RegexValidator(
    r"^[^\x00-\x1f\x7f]*\Z",
    _("Use a single line, without line breaks or control characters."),
    "single_line",
)
MAX_TOPICS = 50


def _country_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((c.code, str(c.name)) for c in countries)]


def _language_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES]


def _line(label: Any, max_length: int, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        validators=[SINGLE_LINE],
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


class TopicsField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        if value and len(value) > MAX_TOPICS:
            raise ValidationError(
                _("Choose at most %(count)d topics."), params={"count": MAX_TOPICS}
            )
        return super().clean(value)


class SignUpForm(forms.Form):
    """The network sign-up. The e-mail address and the consent box are always required;
    which other fields are is DIPLOHUB_SIGNUP_REQUIRED. The compact version (embedded
    on other pages) has only the required fields; its language is the page's."""

    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    first_name = _line(_("First name"), 120, "given-name")
    last_name = _line(_("Last name"), 120, "family-name")
    organization = _line(_("Organisation"), 255, "organization")
    country = forms.ChoiceField(label=_("Country"), required=False, widget=FastSelect)
    position = _line(_("Position"), 200, "organization-title")
    topics = TopicsField(
        label=_("Topics of interest"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language of our e-mails"), required=False)
    wants_events = forms.BooleanField(
        label=_("Also send me invitations and news of the hub's events"), required=False
    )
    consent = forms.BooleanField(
        label=_("I agree to the privacy policy and the terms of service."),
        error_messages={
            "required": _("Tick this box to agree to the privacy policy and the terms.")
        },
    )
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.compact = compact
        self.fields["country"].choices = _country_choices()  # type: ignore[attr-defined]
        language = self.fields["language"]
        language.choices = _language_choices()  # type: ignore[attr-defined]
        current = get_language()
        self.initial.setdefault("language", current if current in dict(settings.LANGUAGES) else "")
        required = set(settings.SIGNUP_REQUIRED)
        for name in settings.SIGNUP_OPTIONAL_FIELDS:
            self.fields[name].required = name in required
        if compact:
            for name in [*settings.SIGNUP_OPTIONAL_FIELDS, "wants_events"]:
                if name == "language" and "language" not in required:
                    self.fields[name].widget = forms.HiddenInput()
                elif name not in required:
                    del self.fields[name]
        for field in self.fields.values():
            if field.required and not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["aria-required"] = "true"

    def clean_email(self) -> str:
        return services.address_normalize(self.cleaned_data["email"])

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or get_language() or settings.LANGUAGE_CODE

    @property
    def is_from_a_bot(self) -> bool:
        return bool(self.data.get("website"))

    def sign_up_arguments(self) -> dict[str, Any]:
        """The service's arguments from the cleaned data."""
        data = self.cleaned_data
        return {
            "email": data["email"],
            "language": data.get("language") or settings.LANGUAGE_CODE,
            "first_name": data.get("first_name", ""),
            "last_name": data.get("last_name", ""),
            "organization_name": data.get("organization", ""),
            "country": data.get("country", ""),
            "position": data.get("position", ""),
            "topics": list(data.get("topics") or []),
            "wants_events": bool(data.get("wants_events")),
        }


class PreferencesForm(forms.Form):
    """The preference centre. Topics and language belong to a subscription, so they
    are shown only to subscribers (`has_subscription`)."""

    newsletter = forms.BooleanField(label=_("The newsletter"), required=False)
    events = forms.BooleanField(label=_("Invitations and news of events"), required=False)
    language = forms.ChoiceField(label=_("Language of our e-mails"), required=False)
    topics = TopicsField(
        label=_("Topics of interest"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(
        label=_("I agree to the privacy policy and the terms of service."),
        required=False,
        help_text=_(
            "Needed only when you turn something on: we record your agreement with the date "
            "and the versions of the documents."
        ),
    )

    def __init__(self, *args: Any, has_subscription: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_subscription = has_subscription
        self.fields["language"].choices = _language_choices()  # type: ignore[attr-defined]
        if not has_subscription:
            del self.fields["language"]
            del self.fields["topics"]


class MyConsentsForm(forms.Form):
    """A signed-in member's consents: one box per purpose of the ledger."""

    newsletter = forms.BooleanField(label=_("Receive the newsletter"), required=False)
    events = forms.BooleanField(label=_("Receive invitations and news of events"), required=False)
    attendee_lists = forms.BooleanField(
        label=_("Appear by name on the attendee lists of the events I attend"), required=False
    )
    consent = forms.BooleanField(
        label=_("I agree to the privacy policy and the terms of service."),
        required=False,
        help_text=_("Needed only when you turn something on."),
    )


class PersonalDataLookupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PersonalDataEraseForm(PersonalDataLookupForm):
    confirm = forms.CharField(
        label=_("Type the address again to confirm"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    understood = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick this box to erase the data.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, confirm = data.get("email"), data.get("confirm")
        if email and confirm is not None and confirm.strip().lower() != email.strip().lower():
            self.add_error("confirm", _("This is not the same address."))
        return data


# === Campaigns: composing a newsletter, its audience, its schedule ===================


class CampaignForm(forms.Form):
    """A campaign's texts: a subject and a Markdown body per language (the default one
    required), its address in the archive, and whether the archive shows it. The
    rules that join the fields (subject and body together) are the service's."""

    slug = forms.SlugField(
        label=_("Address in the archive"),
        max_length=100,
        required=False,
        help_text=_("Letters, digits and hyphens. Leave it empty to make one from the subject."),
    )
    in_archive = forms.BooleanField(
        label=_("Show it in the public archive once it is sent"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, _name in settings.LANGUAGES:
            default = code == settings.LANGUAGE_CODE
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject"),
                max_length=services.CAMPAIGN_SUBJECT_MAX,
                required=default,
                validators=[SINGLE_LINE],
                widget=forms.TextInput(attrs={"lang": code}),
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text (Markdown)"),
                max_length=services.CAMPAIGN_BODY_MAX,
                required=default,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 14, "lang": code, "spellcheck": "true"}),
            )

    @staticmethod
    def initial_for(campaign: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {"slug": campaign.slug, "in_archive": campaign.in_archive}
        for code, _name in settings.LANGUAGES:
            initial[f"subject_{code}"], initial[f"body_{code}"] = campaign.text_in(code)
        return initial

    def languages(self) -> list[dict[str, Any]]:
        """Each language's fields, the default first, for the template."""
        found = [
            {
                "code": code,
                "name": name,
                "default": code == settings.LANGUAGE_CODE,
                "subject": self[f"subject_{code}"],
                "body": self[f"body_{code}"],
            }
            for code, name in settings.LANGUAGES
        ]
        return sorted(found, key=lambda language: not language["default"])

    def texts(self) -> dict[str, services.CampaignText]:
        data = self.cleaned_data
        return {
            code: services.CampaignText(
                subject=data.get(f"subject_{code}") or "", body=data.get(f"body_{code}") or ""
            )
            for code, _name in settings.LANGUAGES
        }


class AudienceForm(forms.Form):
    """Who a campaign goes to (see mailing.audience): any of the choices within a
    group, every group filled in at once; nothing ticked is everyone who agreed."""

    groups = forms.MultipleChoiceField(
        label=_("Who"),
        choices=[
            (SUBSCRIBERS, _("Newsletter subscribers who signed up on the site")),
            (MEMBERS, _("Directory members who agreed to the newsletter")),
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Neither ticked: both."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Their language"), required=False, widget=forms.CheckboxSelectMultiple
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics of interest"),
        queryset=Topic.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    kinds = forms.MultipleChoiceField(
        label=_("Kind of organisation of their post"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        required=False,
        help_text=_(
            "Their own country, or that of the organisation of their post. "
            "Hold Ctrl (⌘ on a Mac) to choose several."
        ),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = _language_choices()  # type: ignore[attr-defined]
        self.fields["countries"].choices = [  # type: ignore[attr-defined]
            (c.code, str(c.name)) for c in countries
        ]

    @staticmethod
    def initial_for(audience: Audience) -> dict[str, Any]:
        return audience.as_json()

    def audience(self) -> Audience:
        data = self.cleaned_data
        return Audience(
            groups=tuple(data.get("groups") or ()),
            languages=tuple(data.get("languages") or ()),
            topics=tuple(topic.slug for topic in data.get("topics") or ()),
            kinds=tuple(data.get("kinds") or ()),
            countries=tuple(data.get("countries") or ()),
        )


class ScheduleForm(forms.Form):
    # Not marked required: the page's other buttons leave it empty.
    when = forms.DateTimeField(
        label=_("Send it at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_when(self) -> Any:
        when = self.cleaned_data.get("when")
        if when is None:
            raise ValidationError(_("Choose the day and time to send it."), code="required")
        return when

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["when"].help_text = _("In the hub's time zone (%(zone)s).") % {
            "zone": settings.TIME_ZONE
        }
