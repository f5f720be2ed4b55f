from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
