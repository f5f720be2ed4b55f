"""Labels the programme's pages, calendars and feeds share."""

from __future__ import annotations

import datetime
import re

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, get_language_info, gettext

from diplohub.events.models import Event

register = template.Library()
CATALAN_ELISION = re.compile(r"\bde ([aeiouàèéíòóú])", re.IGNORECASE)


def _edition(number: int) -> str:
    # One message per English ordinal suffix, so each language can give its own form
    # (Spanish "1.ª edición", Catalan "1a edició": the edition is feminine in both).
    if number % 100 in (11, 12, 13) or number % 10 not in (1, 2, 3):
        return gettext("%(number)sth edition") % {"number": number}
    if number % 10 == 1:
        return gettext("%(number)sst edition") % {"number": number}
    if number % 10 == 2:
        return gettext("%(number)snd edition") % {"number": number}
    return gettext("%(number)srd edition") % {"number": number}


@register.filter
def edition_label(event: Event) -> str:
    """'Diplomatic Circle — 1st edition', 'Diplomatic Circle', '1st edition' or ''."""
    parts = []
    if event.series_id and event.series:
        parts.append(event.series.name)
    if event.edition:
        parts.append(_edition(event.edition))
    return " — ".join(parts)


@register.filter
def language_names(codes: list[str]) -> str:
    """['en', 'es'] -> 'English, Spanish' in the current language (unknown codes as given)."""
    names = []
    for code in codes or []:
        try:
            names.append(str(get_language_info(code)["name_translated"]))
        except KeyError:
            names.append(code)
    return ", ".join(names)


@register.filter
def long_date(value: datetime.datetime) -> str:
    """'Thursday 10 December 2026, 10:00' in the hub's time zone, as each language writes it."""
    # Translators: a PHP-style date format (Django's "date" filter), with the weekday.
    fmt = gettext("l j F Y, H:i")
    text = date_format(timezone.localtime(value), fmt)
    if get_language() == "ca":
        # Catalan elides "de" before a vowel: "10 d'abril", "15 d'octubre".
        text = CATALAN_ELISION.sub(r"d'\1", text)
    return text


EN_DASH = "\u2013"  # between times, as typesetters write a range


@register.filter
def time_span(event: Event) -> str:
    """'Thursday 10 December 2026, 10:00-13:00' (with an en dash), or both dates when
    it spans days."""
    start, end = timezone.localtime(event.start), timezone.localtime(event.end)
    if start.date() == end.date():
        return f"{long_date(event.start)}{EN_DASH}{end:%H:%M}"
    return f"{long_date(event.start)} {EN_DASH} {long_date(event.end)}"
