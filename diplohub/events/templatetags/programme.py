"""Labels the programme's pages, calendars and feeds share."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import get_language_info, gettext

from diplohub.events.models import Event

register = template.Library()


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


@register.simple_tag
def hub_time_zone() -> str:
    return settings.TIME_ZONE
