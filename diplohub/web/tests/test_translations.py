"""The interface in Spanish and Catalan: complete catalogues, and pages that use them.

The .mo files are built from the .po files by `make messages` and never committed; when
pytest runs on its own, the catalogues are compiled here if they are missing or stale.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation

LANGUAGES = ("es", "ca")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# Words that are spelt the same in English and in the translation.
SAME_AS_ENGLISH = {
    "es": {"API", "Asia", "sector"},
    "ca": {"API", "Documents", "Oceania", "Regions", "document", "sector", "Vacant"},
}


def _po_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _parse(path: Path) -> list[Entry]:
    """A tiny PO reader: flags, msgid, msgid_plural and msgstr / msgstr[n]; obsolete skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: str | None = None

    def append(key: str, text: str) -> None:
        assert entry is not None
        if key == "msgid":
            entry.msgid += text
        elif key == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            entry.msgstrs[-1] += text

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is None or entry.msgstrs:
                entry = Entry(line=number)
                entries.append(entry)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword.startswith('"'):
            assert target is not None, f"{path}:{number}: text outside an entry"
            append(target, ast.literal_eval(line))
            continue
        if keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstrs):
            entry = Entry(line=number)
            entries.append(entry)
        assert entry is not None
        if keyword.startswith("msgstr"):
            entry.msgstrs.append("")
            target = "msgstr"
        elif keyword in ("msgid", "msgid_plural"):
            target = keyword
        else:
            target = None
            continue  # msgctxt: not needed here
        append(target, ast.literal_eval(rest))
    return entries


def _msgfmt() -> str:
    found = shutil.which("msgfmt")
    if found is None:
        pytest.fail("msgfmt is missing: install gettext (`make messages` does it)")
    return found


def _compile_if_stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return False
    partial = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
    done = subprocess.run(  # noqa: S603
        [_msgfmt(), "--check-format", "-o", str(partial), str(po)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        pytest.fail(f"msgfmt cannot compile {po}:\n{done.stderr}")
    partial.replace(mo)
    return True


@pytest.fixture(scope="module")
def _compiled_catalogues() -> None:
    compiled = [_compile_if_stale(_po_path(language)) for language in LANGUAGES]
    if any(compiled):
        # Changing LOCALE_PATHS (even to itself) makes Django drop the catalogues it has
        # already loaded in this process, so the fresh .mo files are read.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_reviewed(language: str) -> None:
    path = _po_path(language)
    entries = _parse(path)
    header, messages = entries[0], entries[1:]
    assert header.msgid == ""
    assert f"Language: {language}\n" in header.msgstrs[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstrs[0]
    assert len(messages) > 100

    problems = []
    for entry in [header, *messages]:
        where = f"{path.name}:{entry.line} {entry.msgid[:60]!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where}: fuzzy")
        expected_forms = 2 if entry.msgid_plural is not None else 1
        if len(entry.msgstrs) != expected_forms:
            problems.append(f"{where}: {len(entry.msgstrs)} forms, expected {expected_forms}")
        if any(not text.strip() for text in entry.msgstrs):
            problems.append(f"{where}: untranslated")
        if entry is header:
            continue
        if entry.msgstrs[0] == entry.msgid and entry.msgid not in SAME_AS_ENGLISH[language]:
            problems.append(f"{where}: still in English")
        originals = [entry.msgid, entry.msgid_plural or entry.msgid]
        for original, text in zip(originals, entry.msgstrs, strict=False):
            if sorted(PLACEHOLDER.findall(original)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"{where}: placeholders differ in {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_finds_nothing_untranslated_or_fuzzy(language: str) -> None:
    done = subprocess.run(  # noqa: S603
        [_msgfmt(), "--check", "--statistics", "-o", os.devnull, str(_po_path(language))],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d+ translated messages?\.\n", done.stderr), done.stderr


PAGES = [
    (
        "/es/",
        ["Comunidad diplomática", "Conozca la comunidad diplomática", "Iniciar sesión"],
        ["Diplomatic community", "Meet the diplomatic community", "Sign in"],
    ),
    (
        "/ca/",
        ["Comunitat diplomàtica", "Explori l'ecosistema d'innovació", "Llista diplomàtica"],
        ["Diplomatic community", "Explore the innovation ecosystem", "Diplomatic list"],
    ),
    (
        "/ca/directory/diplomatic-community/",
        ["Comunitat diplomàtica", "Tots els tipus", "Totes les regions", "Filtrar"],
        ["Diplomatic community", "All kinds", "All regions", ">Filter<"],
    ),
    (
        "/es/directory/diplomatic-list/",
        ["Lista diplomática", "orden de precedencia", "Exequátur"],
        ["Diplomatic list", "order of precedence", ">Exequatur<"],
    ),
    (
        "/ca/accounts/sign-in/",
        ["Iniciar la sessió", "Nom d'usuari", "Contrasenya", "enllaç per correu electrònic"],
        ["Sign in", "Username", "Password", "e-mail link", "Member or host?"],
    ),
]


@pytest.mark.django_db
@pytest.mark.usefixtures("_compiled_catalogues")
@pytest.mark.parametrize(("url", "translated", "english"), PAGES)
def test_pages_speak_the_language_of_their_url(
    client, url: str, translated: list[str], english: list[str]
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert f'<html lang="{url.split("/")[1]}">' in text
    for phrase in translated:
        assert phrase in text
    for phrase in english:
        assert phrase not in text


@pytest.mark.usefixtures("_compiled_catalogues")
@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("es", "durante 1 minuto:", "durante 15 minutos:"),
        ("ca", "durant 1 minut:", "durant 15 minuts:"),
    ],
)
def test_sign_in_e_mail_uses_the_plural_forms(language: str, one: str, many: str) -> None:
    context = {"name": "Kenji", "hub_name": "Hub", "url": "https://hub.example/x"}
    with translation.override(language):
        single = render_to_string("accounts/email/sign_in_link.txt", {**context, "minutes": 1})
        plural = render_to_string("accounts/email/sign_in_link.txt", {**context, "minutes": 15})
    assert one in single
    assert many in plural
    assert "Open this link" not in single + plural
