from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from diplohub.accounts.models import User
from diplohub.accounts.services import PROFILE_PERSON_FIELDS
from diplohub.directory.models import Person

_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That username and password do not match an account."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")


class CodeForm(forms.Form):
    """A 6-digit code from an authenticator app."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        help_text=_("Six digits, e.g. 123456. A new code appears every 30 seconds."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "size": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(_("Enter the 6 digits shown in your app."), "format")
        return code


class SignInLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class TelInput(forms.TextInput):
    input_type = "tel"


class LanguagesField(forms.CharField):
    """ISO 639-1 codes typed as "en, ja", stored as ["en", "ja"]."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        codes: list[str] = []
        for part in re.split(r"[,\s;]+", text.lower()):
            if not part:
                continue
            if not _LANGUAGE_CODE.match(part):
                raise forms.ValidationError(
                    _("“%(code)s” is not a two-letter language code such as en or ja."),
                    "code",
                    params={"code": part[:20]},
                )
            if part not in codes:
                codes.append(part)
        if len(codes) > 20:
            raise forms.ValidationError(_("List at most 20 languages."), "too_many")
        return codes


class PersonProfileForm(forms.ModelForm):
    """What a member may change about themselves in the directory."""

    languages = LanguagesField(
        label=_("Languages you work in"),
        required=False,
        max_length=200,
        help_text=_("Two-letter codes separated by commas, e.g. en, es, ja."),
    )

    class Meta:
        model = Person
        fields = list(PROFILE_PERSON_FIELDS)
        widgets = {
            "given_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "family_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "honorific_prefix": forms.TextInput(attrs={"autocomplete": "honorific-prefix"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        labels = {"email": _("Contact e-mail"), "phone": _("Contact phone")}
        help_texts = {
            "form_of_address": _("How to address you in writing, e.g. 'Excmo. Sr.', 'Ms'."),
            "email": _("Shown to the hub team only, never on public pages."),
            "phone": _("Shown to the hub team only, never on public pages."),
        }

    phone = forms.CharField(
        label=_("Contact phone"),
        required=False,
        max_length=40,
        validators=[
            RegexValidator(
                r"^[0-9+()./ -]*$", _("Use digits, spaces and + ( ) - . / only."), "phone"
            )
        ],
        help_text=_("Shown to the hub team only, never on public pages."),
        widget=TelInput(attrs={"autocomplete": "tel"}),
    )


class UserProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language"]
        labels = {"language": _("Interface and e-mail language")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        field.choices = [("", _("The language of the page I am on")), *field.choices[1:]]  # type: ignore[attr-defined]
