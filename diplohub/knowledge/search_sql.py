"""The two engines behind search.py, as SQL: PostgreSQL's full text search and SQLite's
FTS5. Both answer the same four questions (which documents, in what order; how many
for each filter value; the marked title and snippet of a page of documents; keep the
engine's own index in step with the documents' table), so search.py never asks which
database it runs on.

Filters: the values of one facet are OR-ed, facets are AND-ed. The counts of a facet
are taken with every *other* facet's filter applied, so they say how many items each
value would give (ticking one more value of a facet widens the results).

Every statement is put together from this module's constants and placeholders; what a
visitor types only ever travels as a parameter.
"""

# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection

from diplohub.knowledge.search_text import (
    LANGUAGES,
    MARK_END,
    MARK_START,
    PG_CONFIGS,
    Query,
    fts5_expression,
    stems,
)

TABLE = "knowledge_searchdocument"  # narrow: what is filtered and counted
TEXTS = "knowledge_searchtext"  # wide: the texts, with the engines' own index
FTS = "knowledge_search_fts"

# Facet name → column; topics and languages hold several values, as "|a|b|".
FACETS = {
    "kind": "kind",
    "type": "initiative_type",
    "topic": "topics",
    "country": "country",
    "city": "city",
    "language": "languages",
    "year": "year",
}
LIST_FACETS = frozenset({"topic", "language"})
# Facets counted in one GROUP BY when none has a filter: their combinations stay few.
GROUPS = (("kind", "type", "year"), ("country", "city"), ("topic",), ("language",))

TITLE_WEIGHT = 5.0  # a word in the title counts five times one in the text
VISITOR_WEIGHT = 1000.0  # SQLite: a match in the visitor's language outweighs any other
SNIPPET_WORDS = 32

Filters = Mapping[str, Sequence[str]]
Marks = dict[int, dict[str, tuple[str | None, str | None]]]  # id → language → (title, text)


@dataclass(frozen=True)
class Counts:
    total: int
    values: dict[str, dict[str, int]]  # facet → value → items


class Engine(Protocol):
    vendor: str

    def documents_written(self, *, old: Iterable[Any], new: Iterable[Any]) -> None: ...
    def documents_cleared(self) -> None: ...
    def ranked(
        self, *, query: Query | None, language: str, filters: Filters, offset: int, limit: int
    ) -> list[int]: ...
    def find(
        self, *, query: Query | None, language: str, filters: Filters, offset: int, limit: int
    ) -> tuple[Counts, list[int]]: ...
    def marks(self, *, query: Query, ids: Sequence[int]) -> Marks: ...


def engine() -> Engine:
    return PostgresEngine() if connection.vendor == "postgresql" else SqliteEngine()


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _by_language(row: Sequence[Any]) -> dict[str, tuple[str | None, str | None]]:
    return {language: (row[2 * i], row[2 * i + 1]) for i, language in enumerate(LANGUAGES)}


class _Base:
    vendor = ""
    _CONTAINS = ""  # the engine's substring function: instr / strpos
    _COLUMNS = "d.id, d.kind, d.initiative_type, d.country, d.city, d.year, d.topics, d.languages"

    # --- filters ---------------------------------------------------------------------------

    def _condition(self, facet: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        column = FACETS[facet]
        if facet in LIST_FACETS:
            wanted = [f"|{value}|" for value in values if "|" not in value]
            if not wanted:
                return "1 = 0", []
            tests = [f"{self._CONTAINS}(d.{column}, %s) > 0"] * len(wanted)
            return "(" + " OR ".join(tests) + ")", wanted
        if facet == "year":
            years = [int(v) for v in values if v.isdigit() and len(v) <= 4]
            if not years:
                return "1 = 0", []
            return f"d.year IN ({_placeholders(len(years))})", years
        return f"d.{column} IN ({_placeholders(len(values))})", list(values)

    def _where(self, filters: Filters, *, leave_out: str = "") -> tuple[str, list[Any]]:
        sql, params = ["1 = 1"], []
        for facet, values in filters.items():
            if facet == leave_out or not values:
                continue
            condition, more = self._condition(facet, values)
            sql.append(condition)
            params.extend(more)
        return " AND ".join(sql), params

    # --- counts ----------------------------------------------------------------------------

    _PAGE_ORDER = ""  # the engine's order of the matched rows m: best first
    # Without words, count from the rows that meet all the filters but one at most,
    # read once (SQLite: a tenth to a half of the time of a pass per facet over the
    # table); PostgreSQL's passes through the indexes are faster than that copy.
    _MATERIALIZE_BROWSING = False

    def _ranked_matches(self, query: Query, language: str) -> tuple[str, list[Any]] | None:
        """SELECT of the matching documents' facet columns and date, and `rank_a`,
        `rank_b` for _PAGE_ORDER; aliased d. None: nothing can match."""
        raise NotImplementedError

    def _all_but_one(self, filters: Filters, active: list[str]) -> tuple[str, list[Any]]:
        """The condition of the rows some count needs: all the filters, or all but one
        (a facet's own counts leave its filter out)."""
        conditions = [self._condition(facet, filters[facet]) for facet in active]
        params = [value for _sql, more in conditions for value in more]
        if len(conditions) == 1:
            return conditions[0][0], params
        each = " + ".join(f"CASE WHEN {sql} THEN 1 ELSE 0 END" for sql, _more in conditions)
        return f"({each}) >= {len(conditions) - 1}", params

    def find(
        self, *, query: Query | None, language: str, filters: Filters, offset: int, limit: int
    ) -> tuple[Counts, list[int]]:
        """The counts and a page of document ids, best first, in one statement that
        reads the matches once (without words: the table itself, through its indexes,
        or see _MATERIALIZE_BROWSING; the page from the newest). A facet with a filter
        of its own is counted with the other facets' filters; the others together,
        several to a GROUP BY where their combinations stay few (kind, type and year;
        country and city), rolled up here. A list facet is grouped by its whole value
        ("|health|climate|"), split here."""
        empty = Counts(total=0, values={facet: {} for facet in FACETS})
        params: list[Any] = []
        active = [facet for facet in FACETS if filters.get(facet)]
        if query is None and not (active and self._MATERIALIZE_BROWSING):
            source, prefix = f"{TABLE} d", ""
        elif query is None:  # the rows some pass counts: all the filters but one at most
            kept, more = self._all_but_one(filters, active)
            source = "m d"
            prefix = f"WITH m AS MATERIALIZED (SELECT {self._COLUMNS} FROM {TABLE} d WHERE {kept}) "
            params.extend(more)
        else:
            matched = self._ranked_matches(query, language)
            if matched is None:
                return empty, []
            sql, more = matched
            if len(active) > 1:  # fewer rows ranked and counted; with one, every match counts
                kept, kept_params = self._all_but_one(filters, active)
                sql, more = f"SELECT * FROM ({sql}) d WHERE {kept}", [*more, *kept_params]
            source, prefix = "m d", f"WITH m AS MATERIALIZED ({sql}) "
            params.extend(more)
        passes: list[tuple[tuple[str, ...], str]] = [((facet,), facet) for facet in active]
        for group in GROUPS:
            together = tuple(facet for facet in group if facet not in active)
            if together:
                passes.append((together, ""))
        nothing = ", ".join(["NULL"] * len(FACETS))
        where, more = self._where(filters)
        parts = [f"SELECT -1, COUNT(*), {nothing} FROM {source} WHERE {where}"]
        params.extend(more)
        for number, (facets, leave_out) in enumerate(passes):
            where, more = self._where(filters, leave_out=leave_out)
            params.extend(more)
            # Without words or filters, a pass reads the table (through its indexes).
            read = f"{TABLE} d" if query is None and where == "1 = 1" else source
            columns = [
                ("CAST(d.year AS TEXT)" if facet == "year" else f"d.{column}")
                if facet in facets
                else "NULL"
                for facet, column in FACETS.items()
            ]
            grouped = ", ".join(f"d.{FACETS[facet]}" for facet in facets)
            parts.append(
                f"SELECT {number}, COUNT(*), {', '.join(columns)} FROM {read} "
                f"WHERE {where} GROUP BY {grouped}"
            )
        if query is not None:  # the page, numbered in order
            where, more = self._where(filters)
            nulls = ", ".join(["NULL"] * (len(FACETS) - 1))
            parts.append(
                f"SELECT -2, d.id, CAST(ROW_NUMBER() OVER (ORDER BY {self._PAGE_ORDER}) AS TEXT), "
                f"{nulls} FROM (SELECT d.id, d.rank_a, d.rank_b, d.date FROM m d WHERE {where} "
                f"ORDER BY {self._PAGE_ORDER} LIMIT %s OFFSET %s) d"
            )
            params.extend([*more, limit, offset])
        total = 0
        values: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        page: list[tuple[int, int]] = []
        names = list(FACETS)
        for number, count, *row in _fetch(prefix + " UNION ALL ".join(parts), params):
            if number == -1:
                total = count
            elif number == -2:
                page.append((int(row[0]), count))
            else:
                for facet in passes[number][0]:
                    value = row[names.index(facet)]
                    if value in (None, "", "|"):
                        continue
                    found = values[facet]
                    for one in (
                        str(value).strip("|").split("|") if facet in LIST_FACETS else [value]
                    ):
                        found[str(one)] = found.get(str(one), 0) + count
        ids = [pk for _position, pk in sorted(page)]
        if query is None and total > offset:
            ids = self._newest(filters, offset, limit)
        return Counts(total=total, values=values), ids

    def _newest(self, filters: Filters, offset: int, limit: int) -> list[int]:
        where, params = self._where(filters)
        sql = (
            f"SELECT d.id FROM {TABLE} d WHERE {where} "
            "ORDER BY d.date DESC, d.id DESC LIMIT %s OFFSET %s"
        )
        return [row[0] for row in _fetch(sql, [*params, limit, offset])]


class PostgresEngine(_Base):
    """tsvector columns per language (generated from the title, weight A, and the text,
    weight B, by the language's configuration: unaccent, then its Snowball stemmer),
    each with a GIN index. A query is parsed by every language's configuration and
    matched against that language's column; ts_rank orders, ts_headline marks. The
    matches and their facets come from the texts' table alone (it holds a copy of the
    facets), aliased d as the documents' table is elsewhere."""

    vendor = "postgresql"
    _CONTAINS = "strpos"

    def documents_written(self, *, old: Iterable[Any], new: Iterable[Any]) -> None:
        pass  # the tsvectors are generated columns

    def documents_cleared(self) -> None:
        pass

    @staticmethod
    def _tsqueries(query: Query, *, excluded: bool = False) -> dict[str, tuple[str, list[Any]]]:
        """Each language's tsquery, as SQL and its parameters: every word or phrase as
        typed goes through phraseto_tsquery, which reads it as text and never fails.
        The wanted parts all (&&), or with `excluded` the unwanted ones, any (||)."""
        found = {}
        for language in LANGUAGES:
            wanted, unwanted = query.parts_for(language)
            parts = unwanted if excluded else wanted
            if not parts:
                continue
            config = PG_CONFIGS[language]
            joiner = " || " if excluded else " && "
            found[language] = (
                "(" + joiner.join([f"phraseto_tsquery('{config}', %s)"] * len(parts)) + ")",
                [part.text for part in parts],
            )
        return found

    def _match(self, query: Query) -> tuple[str, list[Any]] | None:
        """Every wanted part in one language's vector; no unwanted part in any."""
        tsqueries = self._tsqueries(query)
        if not tsqueries:
            return None
        sql, params = [], []
        for language, (tsquery, more) in tsqueries.items():
            sql.append(f"d.tsv_{language} @@ {tsquery}")
            params.extend(more)
        match = "(" + " OR ".join(sql) + ")"
        excluded = self._tsqueries(query, excluded=True)
        if excluded:
            left_out = []
            for language, (tsquery, more) in excluded.items():
                left_out.append(f"d.tsv_{language} @@ {tsquery}")
                params.extend(more)
            match += " AND NOT (" + " OR ".join(left_out) + ")"
        return match, params

    _PAGE_ORDER = "d.rank_a DESC, d.rank_b DESC, d.date DESC, d.id DESC"

    def _ranked_matches(self, query: Query, language: str) -> tuple[str, list[Any]] | None:
        """rank_a: matched in the visitor's language (a hashed set from that language's
        GIN index, so no row's vector is read for it); rank_b: ts_rank of the title
        (small vectors, kept apart: ts_rank over whole texts reads every match's vector,
        twice the time at thousands of matches). Then the newest first."""
        match = self._match(query)
        if match is None:
            return None
        tsqueries = self._tsqueries(query)
        params: list[Any] = []
        if language in tsqueries:
            tsquery, more = tsqueries[language]
            first = (
                f"d.document_id IN (SELECT v.document_id FROM {TEXTS} v "
                f"WHERE v.tsv_{language} @@ {tsquery})"
            )
            params.extend(more)
        else:
            first = "false"
        ranks = []
        for code, (tsquery, more) in tsqueries.items():
            ranks.append(f"ts_rank(d.tsv_title_{code}, {tsquery})")
            params.extend(more)
        columns = self._COLUMNS.replace("d.id", "d.document_id AS id")
        sql = (
            f"SELECT {columns}, d.date, {first} AS rank_a, "
            f"GREATEST({', '.join(ranks)}) AS rank_b FROM {TEXTS} d WHERE {match[0]}"
        )
        return sql, [*params, *match[1]]

    def ranked(
        self, *, query: Query | None, language: str, filters: Filters, offset: int, limit: int
    ) -> list[int]:
        if query is None:
            return self._newest(filters, offset, limit)
        matched = self._ranked_matches(query, language)
        if matched is None:
            return []
        where, params = self._where(filters)
        sql = (
            f"SELECT d.id FROM ({matched[0]}) d WHERE {where} "
            f"ORDER BY {self._PAGE_ORDER} LIMIT %s OFFSET %s"
        )
        return [row[0] for row in _fetch(sql, [*matched[1], *params, limit, offset])]

    def marks(self, *, query: Query, ids: Sequence[int]) -> Marks:
        if not ids:
            return {}
        tsqueries = self._tsqueries(query)
        title_options = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
        text_options = (
            f"MaxWords={SNIPPET_WORDS}, MinWords=12, MaxFragments=1, "
            f"StartSel={MARK_START}, StopSel={MARK_END}"
        )
        columns, params = [], []
        for language in LANGUAGES:
            if language not in tsqueries:
                columns += ["NULL", "NULL"]
                continue
            tsquery, more = tsqueries[language]
            config = PG_CONFIGS[language]
            columns.append(
                f"CASE WHEN t.title_{language} <> '' THEN "
                f"ts_headline('{config}', t.title_{language}, {tsquery}, %s) END"
            )
            params += [*more, title_options]
            columns.append(
                f"CASE WHEN t.tsv_{language} @@ {tsquery} THEN "
                f"ts_headline('{config}', t.text_{language}, {tsquery}, %s) END"
            )
            params += [*more, *more, text_options]
        sql = (
            f"SELECT t.document_id, {', '.join(columns)} FROM {TEXTS} t "
            f"WHERE t.document_id IN ({_placeholders(len(ids))})"
        )
        return {row[0]: _by_language(row[1:]) for row in _fetch(sql, [*params, *ids])}


class SqliteEngine(_Base):
    """An FTS5 table over the texts' table (external content, rowid = the document's
    id), indexing the stems search_text.py makes (Snowball, per language column);
    bm25 orders, highlight() and snippet() mark the original text."""

    vendor = "sqlite"
    _CONTAINS = "instr"
    _MATERIALIZE_BROWSING = True
    COLUMNS = tuple(f"{kind}_{language}" for language in LANGUAGES for kind in ("title", "text"))

    def _fts_row(self, text: Any) -> list[Any]:
        return [
            text.document_id,
            *(stems(getattr(text, column), column.rsplit("_", 1)[1]) for column in self.COLUMNS),
        ]

    def documents_written(self, *, old: Iterable[Any], new: Iterable[Any]) -> None:
        """Take the old texts' stems out of the index and put the new ones' in. FTS5
        deletes by the terms it was given, so `old` must be the texts as they were stored."""
        names = ", ".join(self.COLUMNS)
        marks = _placeholders(len(self.COLUMNS) + 1)
        with connection.cursor() as cursor:
            removed = [self._fts_row(text) for text in old]
            if removed:
                cursor.executemany(
                    f"INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', {marks})", removed
                )
            added = [self._fts_row(text) for text in new]
            if added:
                cursor.executemany(f"INSERT INTO {FTS}(rowid, {names}) VALUES ({marks})", added)

    def documents_cleared(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('delete-all')")

    @staticmethod
    def _expression(query: Query) -> str | None:
        return fts5_expression(
            query, {language: (f"title_{language}", f"text_{language}") for language in LANGUAGES}
        )

    @classmethod
    def _weights(cls, language: str) -> str:
        weights = []
        for column in cls.COLUMNS:
            kind, code = column.split("_")
            weight = TITLE_WEIGHT if kind == "title" else 1.0
            weights.append(str(weight * (VISITOR_WEIGHT if code == language else 1.0)))
        return ", ".join(weights)

    _PAGE_ORDER = "d.rank_b, d.date DESC, d.id DESC"

    def _ranked_matches(self, query: Query, language: str) -> tuple[str, list[Any]] | None:
        """rank_b: one bm25 (lower is better), the visitor's language columns weighing
        so much more that what matched there comes first."""
        expression = self._expression(query)
        if expression is None:
            return None
        sql = (
            f"SELECT {self._COLUMNS}, d.date, 0 AS rank_a, "
            f"bm25({FTS}, {self._weights(language)}) AS rank_b "
            f"FROM {FTS} JOIN {TABLE} d ON d.id = {FTS}.rowid WHERE {FTS} MATCH %s"
        )
        return sql, [expression]

    def ranked(
        self, *, query: Query | None, language: str, filters: Filters, offset: int, limit: int
    ) -> list[int]:
        if query is None:
            return self._newest(filters, offset, limit)
        matched = self._ranked_matches(query, language)
        if matched is None:
            return []
        where, params = self._where(filters)
        sql = (
            f"SELECT d.id FROM ({matched[0]}) d WHERE {where} "
            f"ORDER BY {self._PAGE_ORDER} LIMIT %s OFFSET %s"
        )
        return [row[0] for row in _fetch(sql, [*matched[1], *params, limit, offset])]

    def marks(self, *, query: Query, ids: Sequence[int]) -> Marks:
        expression = self._expression(query)
        if not ids or expression is None:
            return {}
        columns, params = [], []
        for index, column in enumerate(self.COLUMNS):
            if column.startswith("title_"):
                columns.append(f"highlight({FTS}, {index}, %s, %s)")
            else:
                columns.append(f"snippet({FTS}, {index}, %s, %s, '…', {SNIPPET_WORDS})")
            params += [MARK_START, MARK_END]
        sql = (
            f"SELECT rowid, {', '.join(columns)} FROM {FTS} WHERE {FTS} MATCH %s "
            f"AND rowid IN ({_placeholders(len(ids))})"
        )
        return {row[0]: _by_language(row[1:]) for row in _fetch(sql, [*params, expression, *ids])}
