"""Text analysis for the search index: what a document's text and a visitor's query
become before the database matches them.

PostgreSQL does its own analysis (the `diplohub_en`, `diplohub_es` and `diplohub_ca`
text search configurations: accents off with `unaccent`, then Snowball's stemmer of
the language). SQLite's FTS5 has no stemmer but Porter's, and that is English only, so
for SQLite the same steps happen here, in Python, with the same Snowball algorithms
(PyStemmer):

1. `clean`: the stored text, NFC, without control and private-use characters or
   combining marks left over, and with a space for any character Python and FTS5's
   `unicode61` tokenizer would read differently, so that both cut it alike;
2. `tokens`: runs of letters and digits, as `unicode61` sees them;
3. `fold` then stem: lower case, accents off, then the language's Snowball stemmer
   ("Vacunes" → "vacunes" → "vacun"; "vacunación" → "vacunacion" → "vacun");
4. `stems`: one stem per token, in order. FTS5 indexes the stems, while highlight()
   and snippet() read the original text from the documents' table: as every token has
   exactly one stem, the positions agree and the marks land on the original words.

Accents are folded *before* stemming (as PostgreSQL's unaccent → stemmer chain does):
a query typed without accents then always meets the same word written with them.

A query is parsed once (`parse_query`) into words, quoted phrases and excluded words
(a leading "-"); every other character (FTS syntax: *, ^, parentheses, NEAR, colons)
is just a separator, so nothing typed can be read as an operator by either engine.

Changing what `stems` returns for a text changes the SQLite index's terms: the
index must then be rebuilt (`diplohub search_reindex --fresh`), which
test_search_text.py's pinned examples are there to remind.
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import Stemmer

from diplohub.lib.markdown import render_markdown

# The content languages the index has columns for, and how each is analysed.
LANGUAGES = ("en", "es", "ca")
SNOWBALL = {"en": "english", "es": "spanish", "ca": "catalan"}
PG_CONFIGS = {"en": "diplohub_en", "es": "diplohub_es", "ca": "diplohub_ca"}

MAX_QUERY_CHARS = 200
MAX_QUERY_PARTS = 12


# Words too common to search for: left out of the query in that language, on both engines
# (PostgreSQL's english and spanish configurations also leave theirs out of the index;
# its catalan one has none, so Catalan ones stay indexed and phrases can hold them).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = {
    "en": _words(
        """a about an and are as at be been but by for from had has have he her his how i
        if in into is it its of on or our she so than that the their them then there these
        they this those to was we were what when which who will with you your"""
    ),
    "es": _words(
        """a al algo como con contra de del desde donde durante e el ella ellas ellos en
        entre era es esa ese eso esta este esto estos fue ha hay la las le les lo los mas
        me mi muy ni no nos o os para pero por que quien se sea ser si sin sobre son su sus
        tambien te tu un una uno unos y ya"""
    ),
    "ca": _words(
        """a al als amb d de del dels el els en era es i l la les li lo n no o per perquè
        que s se si sobre són també un una unes uns"""
    ),
}

# --- 1. Cleaning -----------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_DROPPED = {"Mn", "Co", "Cs", "Cc"}  # combining marks (after NFC), private use, surrogates
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits (section 2)
_probe: sqlite3.Connection | None = None
_probe_lock = threading.Lock()


@lru_cache(maxsize=20_000)
def _fts5_keeps(char: str) -> bool:
    """Whether FTS5's unicode61 tokenizer takes `char` for part of a word. Only SQLite
    knows: it does so for every character its Unicode 6.1 tables lack (new emoji,
    unassigned code points), which Python, with newer tables, may call a separator."""
    global _probe
    with _probe_lock:
        if _probe is None:
            _probe = sqlite3.connect(":memory:", check_same_thread=False)
            _probe.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61')")
            _probe.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        _probe.execute("DELETE FROM t")
        _probe.execute("INSERT INTO t(a) VALUES (?)", (f"a{char}a",))
        (count,) = _probe.execute("SELECT COUNT(*) FROM v").fetchone()
    return bool(count == 1)


def _safe(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) in _DROPPED:
        return ""
    if bool(_TOKEN.fullmatch(char)) != _fts5_keeps(char):
        return " "  # Python and SQLite would cut the text differently here
    return char


def clean(text: str | None) -> str:
    """Text as the index stores it. Private-use characters go (the highlighter's marks
    are private-use characters, so no text can forge one), and so do combining marks
    left after NFC; a character that Python and FTS5 would not both read as a letter,
    or both as a separator, becomes a space. Python then cuts the text into the same
    tokens as FTS5."""
    if not text:
        return ""
    text = _CONTROL.sub(" ", text)
    if text.isascii():
        return text
    return _NON_ASCII.sub(_safe, unicodedata.normalize("NFC", text))


class _TextOf(HTMLParser):
    BLOCKS = _words("p br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre hr div table tr td th")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


# Anything Markdown or HTML could make something of; prose without it is its own text.
_MARKUP = re.compile(r"[*_`#<>\[\]!&|~\\]|^\s*(?:[-+=]|\d+[.)])", re.MULTILINE)
_BLANKS = re.compile(r"[ \t]*\n\s*")


def markdown_text(markdown: str | None) -> str:
    """The words a reader sees in a Markdown text: rendered and sanitised as the page
    does it (lib/markdown.py), then without tags; block elements end a line."""
    if not markdown:
        return ""
    if not _MARKUP.search(markdown):
        return markdown.strip()
    parser = _TextOf()
    parser.feed(render_markdown(markdown))
    parser.close()
    return _BLANKS.sub("\n", "".join(parser.parts)).strip()


# --- 2. Tokens ---------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


# --- 3. Folding and stemming ------------------------------------------------------------


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Lower case without accents, still one token: "Diplomàcia" → "diplomacia"."""
    lowered = token.lower()
    if lowered.isascii():
        return lowered
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    folded = "".join(_TOKEN.findall(bare))  # "½" → "1", fraction slash, "2" → "12"
    return folded or lowered


@lru_cache(maxsize=len(LANGUAGES))
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(SNOWBALL[language], 50_000)


def stem(token: str, language: str) -> str:
    return _stemmer(language).stemWord(fold(token)) or fold(token)


def stems(text: str, language: str) -> str:
    """The text's tokens as stems, one for each, separated by spaces: what FTS5 indexes."""
    words = tokens(text)
    if not words:
        return ""
    folded = [fold(word) for word in words]
    stemmed = _stemmer(language).stemWords(folded)
    return " ".join(s or f for s, f in zip(stemmed, folded, strict=True))


# --- 4. Queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A word or a quoted phrase of a query, as typed (for PostgreSQL's parser) and as
    tokens (for FTS5). `exclude`: typed with a leading "-"."""

    text: str
    tokens: tuple[str, ...]
    exclude: bool = False
    phrase: bool = False

    def is_stopword(self, language: str) -> bool:
        return (
            not self.phrase
            and len(self.tokens) == 1
            and fold(self.tokens[0]) in STOPWORDS[language]
        )


@dataclass(frozen=True)
class Query:
    text: str  # the query as used (shortened when too long)
    parts: tuple[Part, ...]
    shortened: bool = False

    @property
    def searches(self) -> bool:
        """There is something to look for (not only excluded words)."""
        return any(not part.exclude for part in self.parts)

    def parts_for(self, language: str) -> tuple[list[Part], list[Part]]:
        """The words to find and the words to leave out, as `language` reads them
        (its stopwords left out)."""
        wanted = [p for p in self.parts if not p.exclude and not p.is_stopword(language)]
        unwanted = [p for p in self.parts if p.exclude and not p.is_stopword(language)]
        return wanted, unwanted


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "\uff02": '"'})
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(raw: str | None) -> Query:
    """Words, "quoted phrases" and -excluded words; everything else is a separator.
    A query longer than MAX_QUERY_CHARS, or with more than MAX_QUERY_PARTS parts, is
    shortened (`shortened` tells the caller to say so)."""
    text = clean(raw or "").translate(_QUOTES)
    text = " ".join(text.split())
    shortened = len(text) > MAX_QUERY_CHARS
    if shortened:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    parts: list[Part] = []
    for match in _PIECE.finditer(text):
        minus, quoted, word = match.groups()
        if word is not None:
            exclude = word.startswith("-") and len(word) > 1
            body = word[1:] if exclude else word
            found = tuple(tokens(body))
            if found:
                parts.append(Part(body, found, exclude=exclude, phrase=False))
        else:
            found = tuple(tokens(quoted or ""))
            if found:
                parts.append(Part(quoted, found, exclude=bool(minus), phrase=len(found) > 1))
    if len(parts) > MAX_QUERY_PARTS:
        parts = parts[:MAX_QUERY_PARTS]
        shortened = True
    return Query(text=text, parts=tuple(parts), shortened=shortened)


def fts5_expression(query: Query, columns: dict[str, tuple[str, ...]]) -> str | None:
    """An FTS5 MATCH expression: for some language, every wanted part (a phrase of that
    language's stems) in that language's columns; and no unwanted part in any language.
    Every term is a quoted string of letters and digits, so it can never be syntax.
    None when no language has anything to look for."""
    wanted_groups, unwanted_groups = [], []
    for language, names in columns.items():
        wanted, unwanted = query.parts_for(language)
        where = "{" + " ".join(names) + "}"
        if wanted:
            found = " AND ".join(_phrase(part, language) for part in wanted)
            wanted_groups.append(f"{where} : ({found})")
        if unwanted:
            left_out = " OR ".join(_phrase(part, language) for part in unwanted)
            unwanted_groups.append(f"{where} : ({left_out})")
    if not wanted_groups:
        return None
    expression = " OR ".join(wanted_groups)
    if unwanted_groups:
        expression = f"({expression}) NOT ({' OR '.join(unwanted_groups)})"
    return expression


def _phrase(part: Part, language: str) -> str:
    return '"' + " ".join(stem(token, language) for token in part.tokens) + '"'


# --- 5. Marks ---------------------------------------------------------------------------------

# The engines put these around matched words; they are private-use characters, which
# clean() takes out of every stored text, so only the engines can have put them there.
MARK_START = "\ue000"
MARK_END = "\ue001"


def marked_html(text: str) -> str:
    """Escaped text with the engines' marks as <mark> elements (and nothing else)."""
    escaped = html.escape(text, quote=False)
    if escaped.count(MARK_START) != escaped.count(MARK_END):
        escaped = escaped.replace(MARK_START, "").replace(MARK_END, "")
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def has_marks(text: str | None) -> bool:
    return bool(text) and MARK_START in (text or "")


def lead(text: str, words: int = 32) -> str:
    """The first words of a text, with an ellipsis when there is more."""
    pieces = text.split()
    if len(pieces) <= words:
        return " ".join(pieces)
    return " ".join(pieces[:words]) + " …"
