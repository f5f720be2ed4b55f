"""Labels the knowledge hub's pages share."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

LINK_LABELS = {
    "web": _("Website"),
    "x": "X",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "other": _("Link"),
}


@register.filter
def link_label(kind: str) -> str:
    """'linkedin' -> 'LinkedIn'; an unknown kind as 'Link'."""
    return str(LINK_LABELS.get(kind, LINK_LABELS["other"]))


@register.filter
def host_of(url: str) -> str:
    """https://www.city.example/path -> city.example, for a link's visible text."""
    from urllib.parse import urlsplit

    host = urlsplit(url or "").hostname or url or ""
    return host.removeprefix("www.")


@register.filter
def language_list(codes: list[str] | str) -> str:
    """['pt', 'xh'] -> 'Portuguese, isiXhosa' in the current language; one code too."""
    from diplohub.knowledge.validation import language_name

    if isinstance(codes, str):
        codes = [codes] if codes else []
    return ", ".join(language_name(code) for code in codes or [])
