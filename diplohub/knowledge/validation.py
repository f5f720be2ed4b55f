"""The rules every catalogue item is checked against, wherever it comes from: the admin,
the public submission form, the services called by commands and importers.

Each check raises Django's ValidationError with a message that names the problem, so
forms show it next to the field and commands print it. Texts are never rewritten:
Markdown with raw HTML is refused (and sanitised anyway when shown, see lib/markdown),
so whoever typed it gets their text back with the reason.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from diplohub.knowledge.models import MAX_PUBLICATION_BYTES

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
EARLIEST_DATE = datetime.date(1900, 1, 1)
LINK_KINDS = (
    "web",
    "x",
    "linkedin",
    "mastodon",
    "bluesky",
    "facebook",
    "instagram",
    "youtube",
    "other",
)
MAX_LINKS = 20
MAX_REFERENCES = 50

# Raw HTML in Markdown: an opening or closing tag, a comment, or a processing
# instruction. Autolinks (<https://…>, <name@host>) are Markdown, not HTML.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^>]*)?/?>|<!--|<\?|<!\[CDATA\[", re.S)
_AUTOLINK = re.compile(r"<(https?://|mailto:)[^>\s]*>|<[^>\s@]+@[^>\s@]+>", re.I)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t).*$", re.M)
# Link targets Markdown would turn into something other than a web or mail link.
_BAD_SCHEME = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data|file):", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_markdown(text: str | None) -> None:
    """Plain Markdown only: no HTML tags (<script>, <iframe>, <img onerror=…>…), no
    javascript: or data: links. Code spans and blocks may show HTML as code."""
    if not text:
        return
    if _CONTROL.search(text):
        raise ValidationError(
            _("The text contains control characters; remove them."), code="control"
        )
    prose = _FENCE.sub("", text)
    prose = _INDENTED_CODE.sub("", prose)
    prose = _INLINE_CODE.sub("", prose)
    prose = _AUTOLINK.sub("", prose)
    match = _TAG.search(prose)
    if match:
        raise ValidationError(
            _(
                "Write Markdown without HTML: %(tag)s is not allowed. "
                "To show code, put it between `backticks`."
            ),
            params={"tag": match.group(0)[:40]},
            code="html",
        )
    if _BAD_SCHEME.search(prose):
        raise ValidationError(
            _("Links may only go to web (https://…) or e-mail (mailto:…) addresses."),
            code="scheme",
        )


def check_date(value: datetime.date | None, *, future_years: int = 0) -> None:
    """A date from 1900 on, and not after today (plus `future_years`, for plans)."""
    if value is None:
        return
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError(_("Enter a date such as 2020-03-26."), code="invalid")
    latest = timezone.localdate()
    if future_years:
        latest = latest.replace(year=latest.year + future_years)
    if value < EARLIEST_DATE:
        raise ValidationError(
            _("%(date)s is too early: use a date from 1900 on."),
            params={"date": value.isoformat()},
            code="too_early",
        )
    if value > latest:
        raise ValidationError(
            _("%(date)s is in the future; use a date up to %(latest)s."),
            params={"date": value.isoformat(), "latest": latest.isoformat()},
            code="future",
        )


# ISO 639-1 languages Django has no interface for, so no name: named here.
EXTRA_LANGUAGES = {
    "am": "Amharic",
    "ha": "Hausa",
    "ig": "Igbo",
    "mi": "Māori",
    "ps": "Pashto",
    "rw": "Kinyarwanda",
    "sm": "Samoan",
    "so": "Somali",
    "wo": "Wolof",
    "xh": "isiXhosa",
    "yo": "Yoruba",
    "zu": "isiZulu",
}


def language_name(code: str) -> str:
    """The language's name in the current language (Django's), or in its own table."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return EXTRA_LANGUAGES.get(code, code)


def check_language_code(code: str) -> None:
    """An ISO 639-1 code (en, ca, pt, zh-hans, xh…)."""
    if code in EXTRA_LANGUAGES:
        return
    try:
        get_language_info(code)
    except KeyError:
        raise ValidationError(
            _("%(code)s is not a language code; use ISO 639-1 codes such as en, es, ca, fr."),
            params={"code": code},
            code="language",
        ) from None


def clean_languages(value: Any) -> list[str]:
    """['ca', 'EN', ' es '] -> ['ca', 'en', 'es']; a string may separate them by commas."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValidationError(_("Give the languages as a list of codes."), code="invalid")
    codes: list[str] = []
    for item in value:
        code = str(item).strip().lower()
        if not code:
            continue
        check_language_code(code)
        if code not in codes:
            codes.append(code)
    return codes


_url = URLValidator(schemes=["http", "https"])


def check_url(url: str) -> None:
    try:
        _url(url)
    except ValidationError:
        raise ValidationError(
            _("%(url)s is not a web address (https://…)."), params={"url": url[:80]}, code="url"
        ) from None


def clean_links(value: Any) -> list[dict[str, str]]:
    """[{"kind": "web", "url": "https://…"}…]; unknown kinds and bad addresses refused."""
    if value in (None, "", []):
        return []
    if not isinstance(value, list):
        raise ValidationError(_("Give the links as a list."), code="invalid")
    if len(value) > MAX_LINKS:
        raise ValidationError(
            _("At most %(count)d links."), params={"count": MAX_LINKS}, code="too_many"
        )
    links: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or not item.get("url"):
            raise ValidationError(_("Each link needs an address."), code="invalid")
        kind = str(item.get("kind") or "web").strip().lower()
        if kind not in LINK_KINDS:
            raise ValidationError(
                _("%(kind)s is not a kind of link; use one of %(kinds)s."),
                params={"kind": kind, "kinds": ", ".join(LINK_KINDS)},
                code="link_kind",
            )
        url = str(item["url"]).strip()
        check_url(url)
        links.append({"kind": kind, "url": url})
    return links


def link_kind_of(url: str) -> str:
    """The kind of a link from its address (x.com -> x), for forms that take bare URLs."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for kind, hosts in {
        "x": ("x.com", "twitter.com"),
        "linkedin": ("linkedin.com",),
        "youtube": ("youtube.com", "youtu.be"),
        "facebook": ("facebook.com",),
        "instagram": ("instagram.com",),
        "bluesky": ("bsky.app",),
    }.items():
        if host in hosts or any(host.endswith("." + h) for h in hosts):
            return kind
    if "mastodon" in host or "/@" in url:
        return "mastodon"
    return "web"


_email = EmailValidator()


def check_role_address(address: str, *, personal: Iterable[str] = ()) -> None:
    """The public contact is a role address (international@…), not somebody's own:
    refuse the submitter's own address, which we know to be personal."""
    if not address:
        return
    _email(address)
    if address.strip().lower() in {p.strip().lower() for p in personal if p}:
        raise ValidationError(
            _(
                "This is your own address. Give a role address of the organisation "
                "(e.g. international@city.example); yours stays private."
            ),
            code="personal",
        )


def _size_of(upload: File) -> int:  # type: ignore[type-arg]
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    return int(size)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def check_image(upload: File) -> None:  # type: ignore[type-arg]
    """A JPEG, PNG or WebP of at most 5 MB, as Pillow reads it (not as its name says),
    checked before anything is stored."""
    from PIL import Image, UnidentifiedImageError

    size = _size_of(upload)
    if size > MAX_IMAGE_BYTES:
        raise ValidationError(
            _("The image is %(size)s MB; the most is %(max)s MB."),
            params={"size": _megabytes(size), "max": _megabytes(MAX_IMAGE_BYTES)},
            code="too_big",
        )
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("This file is not an image we can read; use a JPEG, PNG or WebP file."),
            code="not_image",
        ) from None
    finally:
        upload.seek(0)
    if kind not in IMAGE_FORMATS:
        raise ValidationError(
            _("This is a %(kind)s image; use a JPEG, PNG or WebP file."),
            params={"kind": kind or "?"},
            code="image_type",
        )


def check_pdf(upload: File) -> None:  # type: ignore[type-arg]
    """A PDF of at most 20 MB: it must start with the %PDF- signature, whatever its name."""
    size = _size_of(upload)
    if size > MAX_PUBLICATION_BYTES:
        raise ValidationError(
            _("The file is %(size)s MB; the most is %(max)s MB."),
            params={"size": _megabytes(size), "max": _megabytes(MAX_PUBLICATION_BYTES)},
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if isinstance(head, str):
        head = head.encode("latin-1", "replace")
    if not head.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        raise ValidationError(_("This file is not a PDF document."), code="not_pdf")


def hub_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]
