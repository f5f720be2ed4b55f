"""Text analysis for the search index (search_text.py)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diplohub.knowledge.search_text import (
    MARK_END,
    MARK_START,
    MAX_QUERY_PARTS,
    clean,
    fold,
    fts5_expression,
    markdown_text,
    marked_html,
    parse_query,
    stem,
    stems,
    tokens,
)


def fts5_tokens(text: str) -> list[tuple[str, int]]:
    """How SQLite's unicode61 tokenizer (as the index uses it) cuts a text."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t(a) VALUES (?)", (text,))
    rows = db.execute("SELECT term, offset FROM v ORDER BY offset").fetchall()
    db.close()
    return rows


# Latin, Greek and Cyrillic with their accents and combining marks, punctuation, digits,
# symbols, spaces and emoji: the text a hub writes and quotes.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x04FF, exclude_categories=("Cs",)),
        st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
        st.sampled_from("·\u2019'\u00b4¨ª½ǅﬁ😀🙂🤖\u2065\u0378\ue000\ue001\u200d\u00ad"),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_tokens_are_cut_where_fts5_cuts_them(text):
    stored = clean(text)
    assert len(tokens(stored)) == len(fts5_tokens(stored))


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["en", "es", "ca"]))
def test_every_token_has_one_stem_that_fts5_reads_as_one_token(text, language):
    stored = clean(text)
    stemmed = stems(stored, language)
    assert len(fts5_tokens(stemmed)) == len(tokens(stored))


def test_highlights_land_on_the_original_words():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE doc(id INTEGER PRIMARY KEY, a TEXT)")
    db.execute(
        "CREATE VIRTUAL TABLE f USING fts5(a, content='doc', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    original = clean("L'Ajuntament i les vacunes: col·laboració científica (COVID-19).")
    db.execute("INSERT INTO doc VALUES (1, ?)", (original,))
    db.execute("INSERT INTO f(rowid, a) VALUES (1, ?)", (stems(original, "ca"),))
    expression = fts5_expression(parse_query("vacuna cientifics"), {"ca": ("a",)})
    (marked,) = db.execute(
        "SELECT highlight(f, 0, '[', ']') FROM f WHERE f MATCH ?", (expression,)
    ).fetchone()
    assert marked == "L'Ajuntament i les [vacunes]: col·laboració [científica] (COVID-19)."


# Changing what these become changes the SQLite index's terms: add a migration that runs
# the rebuild (or tell deployments to run `diplohub search_reindex --fresh`).
PINNED = [
    ("ca", "Vacunes", "vacun"),
    ("ca", "vacuna", "vacun"),
    ("ca", "diplomàcia", "diplomac"),
    ("ca", "diplomacia", "diplomac"),
    ("ca", "investigacions", "investig"),
    ("es", "vacunas", "vacun"),
    ("es", "investigación", "investig"),
    ("es", "investigacion", "investig"),
    ("es", "tratamientos", "tratamient"),
    ("en", "treatments", "treatment"),
    ("en", "Vaccines", "vaccin"),
    ("en", "cities", "citi"),
    ("en", "city", "citi"),
]


@pytest.mark.parametrize(("language", "word", "expected"), PINNED)
def test_stems_are_pinned(language, word, expected):
    assert stem(word, language) == expected


def test_folding_takes_accents_and_case_off_and_keeps_one_token():
    assert fold("DIPLOMÀCIA") == "diplomacia"
    assert fold("Investigación") == "investigacion"
    assert fold("½") == "12"
    assert fold("ǅ") == "dž".replace("ž", "z")


def test_cleaning_takes_out_what_could_forge_a_mark_or_split_a_word():
    assert clean(f"a{MARK_START}b{MARK_END}c") == "abc"
    assert clean("e\u0301") == "é"  # composed where Unicode can
    assert clean("q\u0303uick") == "quick"  # a mark left over after NFC goes
    assert clean("robot🤖arm") == "robot arm"  # a word character for SQLite 6.1 only
    assert clean("line\x00one\x07") == "line one "
    assert clean(None) == ""


# --- Queries ----------------------------------------------------------------------------------


def test_a_query_is_words_phrases_and_exclusions():
    query = parse_query('vaccine "clinical trial" -mobility COVID-19')
    assert [(p.text, p.tokens, p.exclude, p.phrase) for p in query.parts] == [
        ("vaccine", ("vaccine",), False, False),
        ("clinical trial", ("clinical", "trial"), False, True),
        ("mobility", ("mobility",), True, False),
        ("COVID-19", ("COVID", "19"), False, False),
    ]
    assert query.searches and not query.shortened


@pytest.mark.parametrize(
    "raw", ["NEAR(a b)", "a* OR b", '"unclosed', "(x) AND -y", "{title_en}: x", "x:y ^z", "“curly”"]
)
def test_syntax_characters_are_separators(raw):
    expression = fts5_expression(parse_query(raw), {"en": ("title_en", "text_en")})
    assert expression is not None
    inside = expression.split(": (", 1)[1]
    for quoted in inside.split('"')[1::2]:
        assert quoted.replace(" ", "").isalnum()


def test_every_language_reads_the_query_its_own_way():
    expression = fts5_expression(
        parse_query("vacunes -mobilitat"),
        {"ca": ("title_ca", "text_ca"), "en": ("title_en", "text_en")},
    )
    assert expression == (
        '({title_ca text_ca} : ("vacun") OR {title_en text_en} : ("vacun")) '
        'NOT ({title_ca text_ca} : ("mobil") OR {title_en text_en} : ("mobilitat"))'
    )


def test_common_words_are_left_out_per_language():
    query = parse_query("the city")
    assert [p.text for p in query.parts_for("en")[0]] == ["city"]
    assert [p.text for p in query.parts_for("ca")[0]] == ["the", "city"]
    assert [p.text for p in parse_query("vacunes i tractaments").parts_for("ca")[0]] == [
        "vacunes",
        "tractaments",
    ]
    assert fts5_expression(parse_query("the of"), {"en": ("a",)}) is None


def test_a_long_query_is_shortened():
    query = parse_query("word " * 2000)
    assert query.shortened and len(query.text) <= 200 and len(query.parts) == MAX_QUERY_PARTS
    assert parse_query("x" * 10_000).shortened


def test_nothing_but_separators_is_no_query():
    assert parse_query("((( ))) * -").parts == ()
    assert not parse_query("-vaccine").searches


# --- Text and marks ------------------------------------------------------------------------------


def test_markdown_becomes_the_words_a_reader_sees():
    text = markdown_text(
        "## Aims\n\n- **Share** data\n- Train [people](https://example.org)\n\n"
        "Done &amp; dusted <script>alert(1)</script>"
    )
    assert text.splitlines() == ["Aims", "Share data", "Train people", "Done & dusted"]
    assert markdown_text("Plain prose, with commas.") == "Plain prose, with commas."


def test_marked_html_escapes_everything_but_the_marks():
    html = marked_html(f"<b>x</b> & {MARK_START}vaccine{MARK_END}")
    assert html == "&lt;b&gt;x&lt;/b&gt; &amp; <mark>vaccine</mark>"
    assert marked_html(f"{MARK_START}open") == "open"  # unbalanced: no marks at all
