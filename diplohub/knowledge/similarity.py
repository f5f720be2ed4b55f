"""Similar initiatives: for every published initiative, the 3 to 6 published initiatives
most like it, from this city and others, computed in the background and stored in
SimilarInitiative. Nothing here runs on a page request.

How two initiatives are compared (`score`), explainably:

- their **texts**: every translation of the title, summary and body (title 3 times, summary
  twice, body once) becomes terms that are, as far as possible, the same in the six
  languages (similarity_text.py: folding, light stemming towards one spelling, a
  lexicon of the domain's key terms); terms are weighed by TF-IDF (sublinear term
  frequency, smoothed inverse document frequency over the published initiatives) and
  the texts compared by cosine, 0 to 1;
- their **metadata**: the share of topics they have in common (Jaccard) and the same
  type of initiative; the same country (1) or region (0.5), then the share of other
  types of response in common, break ties.

    score = 0.82 text + 0.10 topics + 0.08 type

A candidate must share at least one term (the blocking step: the CANDIDATES closest
texts are the candidates; metadata then re-ranks them). A neighbour must be about the
same subject: the text and topics part of its score at least SUBJECT_SCORE, since the
same type or country alone do not make two initiatives alike, nor does one common
word. The list is the best of them by score (ties: place, responses, then the older
first): three
whatever their score, the fourth to sixth only with a score of at least GOOD_SCORE,
so an item shows 3 to 6 when that many are related and fewer only when fewer are
(docs/architecture.md says why these values).

Where it runs: `Index`, kept per process, holds every published initiative's terms
and metadata. It is built once from the database (all the texts read and analysed),
then kept in step by `sync()`: initiatives changed since (similar_computed_at cleared
or rewritten by another process) are read again, so one item's neighbours take a
sparse product over the index (milliseconds), not a read of the whole catalogue.
`recompute_all` computes everyone's neighbours at once with sparse matrix products
(SciPy), in chunks. Both write each initiative's list in a transaction that replaces it
whole, so a reader sees the old list or the new one, never a mix.
"""

from __future__ import annotations

import logging
import math
import re
import resource
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q
from django.db.models.functions import Now
from django.utils import timezone

from diplohub.directory.regions import region_of
from diplohub.knowledge import similarity_text
from diplohub.knowledge.models import Initiative, PublicationState, SimilarInitiative
from diplohub.lib import pagecache

logger = logging.getLogger("diplohub.similarity")

Progress = Callable[[str, int, int], None]

# --- The rules ----------------------------------------------------------------------------

# Chosen on the dev half of the labelled set (bench/bench_similarity.py --tune); the
# other types of response and the place did not help there (initiatives alike are
# mostly from other countries), so they only break ties.
WEIGHTS = {"text": 0.82, "topics": 0.10, "type": 0.08, "responses": 0.0, "place": 0.0}
FIELD_WEIGHTS = {"title": 3.0, "summary": 2.0, "body": 1.0}
BODY_CHARS = 6000  # the start of a long text says what it is about
MAX_SHOWN = 6
MIN_SHOWN = 3
# A neighbour must be about the same subject: the text and topic part of its score
# (0.60 text + 0.20 topics) at least SUBJECT_SCORE, so one common word is not enough, and
# the same type or country never make a neighbour on their own. Ranks 4 to 6 also
# need a score of at least GOOD_SCORE.
SUBJECT_SCORE = 0.06
GOOD_SCORE = 0.15
CANDIDATES = 50
# Each initiative's vector keeps its MAX_TERMS heaviest terms, and terms found in more
# than MAX_DF_SHARE of the initiatives (and more than MAX_DF_MIN) count for nothing:
# they say little, and they would make the all-pairs product quadratic.
MAX_TERMS = 64
# The candidates of an initiative are those whose texts best match its QUERY_TERMS
# heaviest terms (the blocking step; the cosine is then computed on the whole vectors).
QUERY_TERMS = 16
MAX_DF_SHARE = 0.05
MAX_DF_MIN = 1000
DECIMALS = 6  # scores are compared rounded, so that two ways of summing agree
TEXT_FIELDS = ("title", "summary", "body")
_URL = re.compile(r"\S+://\S+|\S+@\S+|www\.\S+")


@dataclass(slots=True)
class Raw:
    """A published initiative as read from the database."""

    id: int
    updated_at: datetime | None
    stamp: datetime | None  # similar_computed_at as read
    terms: dict[str, float]  # term → weighted count
    type_id: int | None
    country: str
    region: str
    topics: list[int]
    responses: list[int]


@dataclass(slots=True)
class Item:
    """What the index keeps of one published initiative."""

    id: int
    updated_at: datetime | None
    stamp: datetime | None
    terms: array  # term ids ("i")
    counts: array  # their weighted counts ("f")
    type: int  # -1: none; then ids of the index's own tables
    country: int
    region: int
    topics: int  # bit masks over Index.topic_bits / response_bits
    responses: int


@dataclass
class Neighbour:
    id: int
    score: float
    subject: float  # the text and topics part of the score


def item_terms(texts: dict[str, dict[str, str]], declared: Sequence[str]) -> dict[str, float]:
    """The weighted term counts of an initiative's texts ({language column: {field:
    text}}). A text copied into a second column (a submission's default-language copy)
    counts once; a column whose language the initiative does not declare is read as
    the declared one (a French initiative stored in the default column)."""
    counts: dict[str, float] = {}
    seen: set[tuple[str, ...]] = set()
    declared = [code for code in declared if code in similarity_text.LANGUAGES]
    for code, fields in texts.items():
        values = tuple((fields.get(name) or "") for name in TEXT_FIELDS)
        if not any(values) or values in seen:
            continue
        seen.add(values)
        hint = code if (not declared or code in declared) else declared[0]
        parts = []
        for name, value in zip(TEXT_FIELDS, values, strict=True):
            if name == "body":
                value = value[:BODY_CHARS]
            if "://" in value or "@" in value or "www." in value:
                value = _URL.sub(" ", value)
            parts.append((value, FIELD_WEIGHTS[name]))
        similarity_text.add_terms(parts, hint, counts)
    return counts


# --- Scoring ----------------------------------------------------------------------------------

_WORD_BITS = 64
_ALL_BITS = (1 << _WORD_BITS) - 1


@dataclass
class _Meta:
    """Metadata of m initiatives as arrays, for scoring many pairs at once."""

    type: np.ndarray
    country: np.ndarray
    region: np.ndarray
    topics: np.ndarray  # (m, words) uint64 bit masks
    responses: np.ndarray

    def take(self, rows: np.ndarray) -> _Meta:
        return _Meta(
            self.type[rows],
            self.country[rows],
            self.region[rows],
            self.topics[rows],
            self.responses[rows],
        )


def _bit_words(masks: list[int], words: int) -> np.ndarray:
    return np.array(
        [[(mask >> (_WORD_BITS * w)) & _ALL_BITS for w in range(words)] for mask in masks],
        dtype=np.uint64,
    ).reshape(len(masks), words)


def _jaccard_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = np.bitwise_count(a & b).sum(axis=1)
    either = np.bitwise_count(a | b).sum(axis=1)
    return np.where(either > 0, both / np.maximum(either, 1), 0.0)


def score_pairs(a: _Meta, b: _Meta, text: np.ndarray) -> dict[str, np.ndarray]:
    """The score of many pairs (a[i], b[i]) whose texts' cosines are text[i], with its
    parts: the one place where scores are computed."""
    place = np.where(
        (a.country >= 0) & (a.country == b.country),
        1.0,
        np.where((a.region >= 0) & (a.region == b.region), 0.5, 0.0),
    )
    values = {
        "text": text,
        "topics": _jaccard_arrays(a.topics, b.topics),
        "type": ((a.type >= 0) & (a.type == b.type)).astype(float),
        "responses": _jaccard_arrays(a.responses, b.responses),
        "place": place,
    }
    score = np.zeros(len(text))
    for name, value in values.items():
        score = score + WEIGHTS[name] * value
    values["score"] = np.round(score, DECIMALS)
    values["subject"] = np.round(
        WEIGHTS["text"] * values["text"] + WEIGHTS["topics"] * values["topics"], DECIMALS
    )
    return values


def _order(values: dict[str, np.ndarray], ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Pairs by row, then best first: score, then place, then responses, then the older."""
    return np.lexsort((ids, -values["responses"], -values["place"], -values["score"], rows))


def _pick(scores: list[float], subjects: list[float]) -> list[int]:
    """Which of a row's candidates (best first) are shown: those about the same subject,
    MIN_SHOWN whatever their score, then up to MAX_SHOWN of at least GOOD_SCORE."""
    chosen: list[int] = []
    for position, (score, about) in enumerate(zip(scores, subjects, strict=True)):
        if len(chosen) == MAX_SHOWN or (len(chosen) >= MIN_SHOWN and score < GOOD_SCORE):
            break
        if about >= SUBJECT_SCORE:
            chosen.append(position)
    return chosen


def choose(ranked: list[Neighbour]) -> list[Neighbour]:
    """The list shown, from candidates ranked best first (see _pick)."""
    picked = _pick([n.score for n in ranked], [n.subject for n in ranked])
    return [ranked[position] for position in picked]


def _top_positions(values: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values, ties to the smaller id, in no particular order."""
    if len(values) <= k:
        return np.arange(len(values))
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above = np.flatnonzero(values > kth)
    equal = np.flatnonzero(values == kth)
    equal = equal[np.argsort(ids[equal], kind="stable")][: k - len(above)]
    return np.concatenate([above, equal])


# --- The index ------------------------------------------------------------------------------


@dataclass
class _Base:
    """The matrix form of the index at its last compaction."""

    ids: np.ndarray  # row → initiative id, ascending
    matrix: sp.csr_matrix  # rows: L2-normalised TF-IDF vectors
    query: sp.csr_matrix  # the same, each row's QUERY_TERMS heaviest terms only
    idf: np.ndarray  # term id → idf at compaction (0 for terms too common to count)
    alive: np.ndarray  # rows not replaced or removed since
    meta: _Meta


def _weigh(
    rows: np.ndarray, terms: np.ndarray, counts: np.ndarray, idf: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """TF-IDF weights of (row, term, count) entries, in row order: each row cut to its
    MAX_TERMS heaviest terms and L2-normalised. Returns the entries kept (rows, terms,
    weights) and which of them are among their row's QUERY_TERMS heaviest. Ties go to
    the term met first in the text (not to the term's id, which depends on the order
    a process read the initiatives in)."""
    weights = (1.0 + np.log(counts)) * idf[terms]
    lengths = np.bincount(rows, minlength=size)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(rows)) - starts[rows]
    keep = weights > 0
    rows, terms, weights, position = rows[keep], terms[keep], weights[keep], position[keep]
    if not len(rows):
        return rows, terms, weights, np.zeros(0, dtype=bool)
    # One sort on one integer key: row, then weight (heaviest first; 2^-14 steps), then
    # position in the text.
    heavy = (1 << 20) - 1 - np.minimum(np.round(weights * (1 << 14)), (1 << 20) - 1)
    key = (rows << 36) | (heavy.astype(np.int64) << 16) | np.minimum(position, (1 << 16) - 1)
    order = np.argsort(key)
    lengths = np.bincount(rows, minlength=size)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts[rows[order]]
    kept = rank < MAX_TERMS
    rows, terms, weights, rank = rows[kept], terms[kept], weights[kept], rank[kept]
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=size))
    return rows, terms, weights / norms[rows], rank < QUERY_TERMS


Vector = tuple[np.ndarray, np.ndarray, np.ndarray]  # term ids, weights, query mask


@dataclass
class Index:
    """Every published initiative's terms and metadata, in one process."""

    items: dict[int, Item] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    types: dict[int, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)
    regions: dict[str, int] = field(default_factory=dict)
    topic_bits: dict[int, int] = field(default_factory=dict)
    response_bits: dict[int, int] = field(default_factory=dict)
    base: _Base | None = None
    # Items changed since the compaction, weighed with its idf.
    overlay: dict[int, Vector] = field(default_factory=dict)
    watermark: datetime | None = None  # database time of the last sync
    seen: set[datetime] = field(default_factory=set)  # recent stamps it read or wrote
    full_sync_at: float = 0.0
    database: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)

    # 1. Loading.

    def load(self, ids: Iterable[int] | None = None, progress: Progress | None = None) -> int:
        """Read these published initiatives (all when None) into the index."""
        count = 0
        recent = self.watermark - SYNC_MARGIN if self.watermark else None
        for raw in read_items(ids, progress):
            self.put(raw)
            if raw.stamp is not None and recent is not None and raw.stamp >= recent:
                self.seen.add(raw.stamp)
            count += 1
        return count

    def _code(self, table: dict[Any, int], value: Any) -> int:
        if value is None or value == "":
            return -1
        return table.setdefault(value, len(table))

    def _mask(self, bits: dict[int, int], values: list[int]) -> int:
        mask = 0
        for value in values:
            mask |= 1 << bits.setdefault(value, len(bits))
        return mask

    def put(self, raw: Raw) -> None:
        vocabulary, names = self.vocabulary, self.names
        ids = array("i")
        for term in raw.terms:
            term_id = vocabulary.get(term)
            if term_id is None:
                term_id = vocabulary[term] = len(names)
                names.append(term)
            ids.append(term_id)
        item = Item(
            id=raw.id,
            updated_at=raw.updated_at,
            stamp=raw.stamp,
            terms=ids,
            counts=array("f", raw.terms.values()),
            type=self._code(self.types, raw.type_id),
            country=self._code(self.countries, raw.country),
            region=self._code(self.regions, raw.region),
            topics=self._mask(self.topic_bits, raw.topics),
            responses=self._mask(self.response_bits, raw.responses),
        )
        if item.id in self.items and self.base is not None:
            self._retire(item.id)
        self.items[item.id] = item
        if self.base is not None:
            self.overlay[item.id] = self._vector(item, self.base.idf)

    def remove(self, pk: int) -> None:
        if self.items.pop(pk, None) is not None and self.base is not None:
            self._retire(pk)

    def _retire(self, pk: int) -> None:
        assert self.base is not None
        self.overlay.pop(pk, None)
        row = np.searchsorted(self.base.ids, pk)
        if row < len(self.base.ids) and self.base.ids[row] == pk:
            self.base.alive[row] = False

    def _vector(self, item: Item, idf: np.ndarray) -> Vector:
        """An item's weighted, normalised vector with the compaction's idf (a term
        unknown then counts as seen in no initiative)."""
        unseen = math.log(1 + len(self.items)) + 1
        known = np.concatenate([idf, np.full(max(0, len(self.names) - len(idf)), unseen)])
        rows = np.zeros(len(item.terms), dtype=np.int64)
        terms = np.frombuffer(item.terms, dtype=np.int32).astype(np.int64)
        counts = np.frombuffer(item.counts, dtype=np.float32).astype(np.float64)
        _rows, terms, weights, query = _weigh(rows, terms, counts, known, 1)
        return terms, weights, query

    def _meta(self, items: list[Item]) -> _Meta:
        topic_words = max(1, -(-len(self.topic_bits) // _WORD_BITS))
        response_words = max(1, -(-len(self.response_bits) // _WORD_BITS))
        return _Meta(
            type=np.array([i.type for i in items], dtype=np.int64),
            country=np.array([i.country for i in items], dtype=np.int64),
            region=np.array([i.region for i in items], dtype=np.int64),
            topics=_bit_words([i.topics for i in items], topic_words),
            responses=_bit_words([i.responses for i in items], response_words),
        )

    # 2. The matrix.

    def compact(self) -> None:
        """Rebuild the matrix from the items, with the idf of the items as they are now;
        terms in more than MAX_DF_SHARE of them (and MAX_DF_MIN) are left out."""
        ordered = [self.items[pk] for pk in sorted(self.items)]
        n, size = len(ordered), len(self.names)
        lengths = np.fromiter((len(i.terms) for i in ordered), dtype=np.int64, count=n)
        terms = np.frombuffer(b"".join(i.terms.tobytes() for i in ordered), dtype=np.int32)
        counts = np.frombuffer(b"".join(i.counts.tobytes() for i in ordered), dtype=np.float32)
        terms, counts = terms.astype(np.int64), counts.astype(np.float64)
        rows = np.repeat(np.arange(n), lengths)
        df = np.bincount(terms, minlength=size)
        idf = np.log((1 + n) / (1 + df)) + 1.0
        idf[df > max(MAX_DF_MIN, MAX_DF_SHARE * n)] = 0.0
        rows, terms, weights, query = _weigh(rows, terms, counts, idf, n)
        matrix = sp.csr_matrix((weights, (rows, terms)), shape=(n, size))
        self.base = _Base(
            ids=np.array([i.id for i in ordered], dtype=np.int64),
            matrix=matrix,
            query=sp.csr_matrix((weights[query], (rows[query], terms[query])), shape=(n, size)),
            idf=idf,
            alive=np.ones(n, dtype=bool),
            meta=self._meta(ordered),
        )
        self.overlay = {}

    def due_for_compaction(self) -> bool:
        """More than 1 % of the items changed since the compaction (the housekeeping
        job then compacts, in the background)."""
        return len(self.overlay) * 100 > len(self.items)

    def _ready(self) -> _Base:
        """The matrix; compacted first when there is none, when changes since are more
        than 10 % of the items (the housekeeping job compacts at 1 %), or when the
        index is small enough for that to cost nothing."""
        if (
            self.base is None
            or len(self.overlay) * 10 > len(self.items)
            or (self.overlay and len(self.items) < 2_000)
        ):
            self.compact()
        assert self.base is not None
        return self.base

    # 3. Neighbours.

    def _vector_of(self, base: _Base, pk: int) -> Vector:
        if pk in self.overlay:
            return self.overlay[pk]
        row = np.searchsorted(base.ids, pk)
        if row < len(base.ids) and base.ids[row] == pk and base.alive[row]:
            start, end = base.matrix.indptr[row], base.matrix.indptr[row + 1]
            terms = base.matrix.indices[start:end]
            q_start, q_end = base.query.indptr[row], base.query.indptr[row + 1]
            query = np.isin(terms, base.query.indices[q_start:q_end])
            return terms, base.matrix.data[start:end], query
        return self._vector(self.items[pk], base.idf)

    def text_scores(self, pk: int) -> tuple[np.ndarray, np.ndarray]:
        """The candidates of pk and the cosine of their texts with pk's: the CANDIDATES
        initiatives whose texts best match pk's QUERY_TERMS heaviest terms (ties: the
        older), among those sharing one of them."""
        base = self._ready()
        terms, weights, query = self._vector_of(base, pk)
        size = base.matrix.shape[1]
        known = terms < size
        partial_query = np.zeros(size)
        partial_query[terms[known & query]] = weights[known & query]
        partial = base.matrix @ partial_query
        partial[~base.alive] = 0.0
        rows = np.flatnonzero(partial > 0)
        ids, values = base.ids[rows], partial[rows]
        mine = dict(zip(terms.tolist(), weights.tolist(), strict=True))
        tops = {
            t: w
            for t, w, q in zip(terms.tolist(), weights.tolist(), query.tolist(), strict=True)
            if q
        }
        extra: dict[int, tuple[float, float]] = {}  # overlay id → (partial, cosine)
        for other, (other_terms, other_weights, _query) in self.overlay.items():
            pairs = list(zip(other_terms.tolist(), other_weights.tolist(), strict=True))
            value = sum(tops.get(t, 0.0) * w for t, w in pairs)
            if value > 0 and other != pk:
                extra[other] = (value, sum(mine.get(t, 0.0) * w for t, w in pairs))
        rows = np.concatenate([rows, np.full(len(extra), -1)])
        ids = np.concatenate([ids, np.array(list(extra), dtype=np.int64)])
        values = np.concatenate([values, np.array([v[0] for v in extra.values()])])
        others = ids != pk
        rows, ids, values = rows[others], ids[others], values[others]
        chosen = _top_positions(np.round(values, DECIMALS), ids, CANDIDATES)
        rows, ids = rows[chosen], ids[chosen]
        full = np.zeros(size)
        full[terms[known]] = weights[known]
        cosines = np.zeros(len(ids))
        in_base = rows >= 0
        cosines[in_base] = base.matrix[rows[in_base]] @ full
        for position in np.flatnonzero(~in_base).tolist():
            cosines[position] = extra[int(ids[position])][1]
        return ids, cosines

    def rank(self, pk: int, ids: np.ndarray, text: np.ndarray) -> list[Neighbour]:
        """Candidates ranked best first."""
        text = np.round(text, DECIMALS)
        others = [self.items[other] for other in ids.tolist()]
        mine = self._meta([self.items[pk]] * len(others))
        values = score_pairs(mine, self._meta(others), text)
        order = _order(values, ids, np.zeros(len(ids), dtype=np.int64))
        return [
            Neighbour(
                id=int(ids[i]), score=float(values["score"][i]), subject=float(values["subject"][i])
            )
            for i in order.tolist()
        ]

    def neighbours(self, pk: int) -> list[Neighbour]:
        """The list to show for a published initiative in the index."""
        return choose(self.rank(pk, *self.text_scores(pk)))

    def all_neighbours(
        self, progress: Progress | None = None, chunk: int = 500
    ) -> Iterator[tuple[int, list[Neighbour]]]:
        """Every item's list, by sparse products of chunks of rows with all rows; the
        same lists as neighbours() gives one by one."""
        base = self._ready()
        assert not self.overlay
        transposed = base.matrix.T.tocsr()
        total = len(base.ids)
        for start in range(0, total, chunk):
            products = (base.query[start : start + chunk] @ transposed).tocsr()
            rows, candidates = [], []
            for offset in range(products.shape[0]):
                row = start + offset
                lo, hi = products.indptr[offset], products.indptr[offset + 1]
                columns, values = products.indices[lo:hi], products.data[lo:hi]
                keep = (columns != row) & (values > 0)
                columns, values = columns[keep], values[keep]
                chosen = _top_positions(np.round(values, DECIMALS), base.ids[columns], CANDIDATES)
                rows.append(np.full(len(chosen), row))
                candidates.append(columns[chosen])
            if not rows:
                continue
            a = np.concatenate(rows)
            b = np.concatenate(candidates).astype(np.int64)
            cosines = np.asarray(base.matrix[a].multiply(base.matrix[b]).sum(axis=1)).ravel()
            text = np.round(cosines, DECIMALS)
            values = score_pairs(base.meta.take(a), base.meta.take(b), text)
            order = _order(values, base.ids[b], a)
            a, b = a[order], b[order]
            scores, subjects = values["score"][order], values["subject"][order]
            bounds = np.searchsorted(a, np.arange(start, start + products.shape[0] + 1))
            ids, score_list, subject_list = base.ids[b].tolist(), scores.tolist(), subjects.tolist()
            for offset in range(products.shape[0]):
                lo, hi = int(bounds[offset]), int(bounds[offset + 1])
                picked = _pick(score_list[lo:hi], subject_list[lo:hi])
                yield (
                    int(base.ids[start + offset]),
                    [
                        Neighbour(
                            id=ids[lo + p], score=score_list[lo + p], subject=subject_list[lo + p]
                        )
                        for p in picked
                    ],
                )
            if progress:
                progress("Computing", min(start + chunk, total), total)

    def explain(self, pk: int, other: int, terms: int = 8) -> dict[str, Any]:
        """Why two items are (or are not) alike: the parts of the score and the terms
        that weigh most in their texts' cosine."""
        base = self._ready()
        first, second = self._vector_of(base, pk)[:2], self._vector_of(base, other)[:2]
        mine = dict(zip(first[0].tolist(), first[1].tolist(), strict=True))
        shared = [
            (t, mine[t] * w)
            for t, w in zip(second[0].tolist(), second[1].tolist(), strict=True)
            if t in mine
        ]
        text = round(sum(value for _term, value in shared), DECIMALS)
        shared.sort(key=lambda pair: (-pair[1], self.names[pair[0]]))
        values = score_pairs(
            self._meta([self.items[pk]]), self._meta([self.items[other]]), np.array([text])
        )
        parts = {name: float(values[name][0]) for name in WEIGHTS}
        return {
            "score": float(values["score"][0]),
            "parts": parts,
            "weights": dict(WEIGHTS),
            "shared_terms": [(self.names[t], round(v, 4)) for t, v in shared[:terms]],
        }

    # 4. Keeping in step with the database.

    def sync(self, *, full: bool = False) -> set[int]:
        """Read again the initiatives changed since the last sync; return their ids.

        Changed means: similar_computed_at cleared (a change to its texts or metadata),
        or set to another value than the one read (another process recomputed it after
        a change). Every FULL_SYNC seconds, and when asked, every published id is
        compared too (deletions, and changes of state made without clearing it)."""
        with self.lock:
            now = _database_now()
            if full or self.watermark is None or time.monotonic() - self.full_sync_at > FULL_SYNC:
                rows = Initiative.objects.all().values_list("pk", "state", "similar_computed_at")
                published = set()
                changed = set()
                for pk, state, stamp in rows.iterator(chunk_size=5000):
                    if state != PublicationState.PUBLISHED:
                        continue
                    published.add(pk)
                    known = self.items.get(pk)
                    if known is None or stamp is None or known.stamp != stamp:
                        changed.add(pk)
                for pk in set(self.items) - published:
                    self.remove(pk)
                self.full_sync_at = time.monotonic()
            else:
                since = self.watermark - SYNC_MARGIN
                # The stamps this index has already seen (read or written) are left out:
                # a full recompute stamps every row, in a few hundred statements, and
                # reading them all again at every sync would cost a second. (A row
                # changed elsewhere with a stamp seen on another row would wait for the
                # next full sync; statement timestamps make that a rare coincidence.)
                self.seen = {stamp for stamp in self.seen if stamp >= since}
                rows = (
                    Initiative.objects.filter(
                        Q(similar_computed_at__isnull=True) | Q(similar_computed_at__gte=since)
                    )
                    .exclude(similar_computed_at__in=sorted(self.seen))
                    .values_list("pk", "state", "similar_computed_at")
                )
                changed = set()
                for pk, state, stamp in rows.iterator(chunk_size=5000):
                    if state != PublicationState.PUBLISHED:
                        self.remove(pk)
                        continue
                    known = self.items.get(pk)
                    if known is None or stamp is None or known.stamp != stamp:
                        changed.add(pk)
            stale = changed - set(self.items)
            for pk in changed & set(self.items):
                self.remove(pk)
            self.load(sorted(changed))
            self.watermark = now
            return changed | stale

    def note_written(self, pk: int, stamp: datetime | None) -> None:
        item = self.items.get(pk)
        if item is not None:
            item.stamp = stamp
        if stamp is not None:
            self.seen.add(stamp)


FULL_SYNC = 600.0  # seconds
SYNC_MARGIN = timedelta(minutes=2)  # longer than a transaction that writes stamps


def _database_now() -> datetime:
    """The database's clock: every process stamps with it, so stamps and watermarks
    compare across processes. Written back as a value (not as NOW() in the UPDATE), a
    stamp reads back equal on SQLite too, whose NOW() text has milliseconds only."""
    found = Initiative.objects.order_by().annotate(now=Now()).values_list("now", flat=True)[:1]
    return next(iter(found), None) or timezone.now()


def _columns() -> list[tuple[str, str, str]]:
    """(language, field, column) for every translated text column."""
    return [
        (code, name, f"{name}_{code}")
        for code in settings.MODELTRANSLATION_LANGUAGES
        for name in TEXT_FIELDS
    ]


def read_items(ids: Iterable[int] | None = None, progress: Progress | None = None) -> Iterator[Raw]:
    """The published initiatives (these ids, or all) as read and analysed, in id order."""
    columns = _columns()
    queryset = Initiative.objects.filter(state=PublicationState.PUBLISHED)
    wanted: list[int] | None = None
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return
    batches = [wanted[i : i + 2000] for i in range(0, len(wanted), 2000)] if wanted else [None]
    total = len(wanted) if wanted is not None else queryset.count()
    done = 0
    for batch in batches:
        rows = queryset if batch is None else queryset.filter(pk__in=batch)
        topics = _relations(Initiative.topics.through, "topic_id", batch)
        responses = _relations(Initiative.response_types.through, "responsetype_id", batch)
        values = rows.order_by("pk").values_list(
            "pk",
            "updated_at",
            "similar_computed_at",
            "initiative_type_id",
            "country",
            "languages",
            *[column for _code, _name, column in columns],
        )
        for row in values.iterator(chunk_size=2000):
            pk, updated_at, stamp, type_id, country, languages = row[:6]
            texts: dict[str, dict[str, str]] = {}
            for (code, name, _column), value in zip(columns, row[6:], strict=True):
                texts.setdefault(code, {})[name] = value or ""
            country = str(country or "")
            yield Raw(
                id=pk,
                updated_at=updated_at,
                stamp=stamp,
                terms=item_terms(texts, languages if isinstance(languages, list) else []),
                type_id=type_id,
                country=country,
                region=str(region_of(country) or "") if country else "",
                topics=topics.get(pk, []),
                responses=responses.get(pk, []),
            )
            done += 1
            if progress and (done % 1000 == 0 or done == total):
                progress("Reading", done, total)


def _relations(through: Any, column: str, ids: list[int] | None) -> dict[int, list[int]]:
    rows = through.objects.all()
    if ids is not None:
        rows = rows.filter(initiative_id__in=ids)
    else:
        rows = rows.filter(initiative__state=PublicationState.PUBLISHED)
    found: dict[int, list[int]] = {}
    for pk, other in rows.values_list("initiative_id", column).iterator(chunk_size=10000):
        found.setdefault(pk, []).append(other)
    return found


# --- The process's index ------------------------------------------------------------------------

_index: Index | None = None
_index_lock = threading.Lock()


def get_index() -> Index:
    """This process's index, built on first use and kept in step with the database."""
    global _index
    with _index_lock:
        database = f"{connection.vendor}:{connection.settings_dict.get('NAME')}"
        if _index is None or _index.database != database:
            index = Index(database=database)
            index.watermark = _database_now()
            index.full_sync_at = time.monotonic()
            index.load()
            index.compact()
            _index = index
        return _index


def forget_index() -> None:
    """Drop this process's index (tests; after a restore of the database)."""
    global _index
    with _index_lock:
        _index = None


# --- Writing ------------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    refreshed: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # changed meanwhile: left for the next run


Version = tuple[datetime | None, datetime | None]  # (updated_at, similar_computed_at)


def _write(
    lists: dict[int, list[Neighbour]],
    read: dict[int, Version],
    report: RefreshReport,
    index: Index | None = None,
) -> set[int]:
    """Replace the lists of these initiatives in one transaction, for those still
    published and unchanged since they were read (`read`: their version then). Returns
    the neighbours found gone (deleted or unpublished), whose lists were not written.

    An initiative recomputed meanwhile by another process keeps that process's list; one
    edited without its similar_computed_at cleared (a change the similarity does not
    read, or a race with the edit) is marked due, so the next run reads it again."""
    with transaction.atomic():
        current = {
            pk: (updated_at, stamp)
            # NO KEY: the rows written reference other initiatives (a foreign key
            # check takes KEY SHARE on them), which other writers may hold this way.
            for pk, updated_at, stamp in Initiative.objects.select_for_update(no_key=True)
            .filter(pk__in=list(lists), state=PublicationState.PUBLISHED)
            .order_by("pk")
            .values_list("pk", "updated_at", "similar_computed_at")
        }
        named = {n.id for chosen in lists.values() for n in chosen}
        alive = set(
            Initiative.objects.filter(
                pk__in=list(named), state=PublicationState.PUBLISHED
            ).values_list("pk", flat=True)
        )
        gone = named - alive
        ok = [
            pk
            for pk, chosen in lists.items()
            if pk in current and current[pk] == read[pk] and not any(n.id in gone for n in chosen)
        ]
        skipped = [pk for pk in lists if pk not in current or current[pk] != read[pk]]
        report.skipped.extend(skipped)
        edited = [
            pk
            for pk in skipped
            if pk in current and current[pk][0] != read[pk][0] and current[pk][1] is not None
        ]
        Initiative.objects.filter(pk__in=edited).update(similar_computed_at=None)
        _delete(ok)
        _insert([(pk, n.id, rank, n.score) for pk in ok for rank, n in enumerate(lists[pk], 1)])
        stamp = _database_now()
        Initiative.objects.filter(pk__in=ok).update(similar_computed_at=stamp)
        stamps = dict.fromkeys(ok, stamp)
    report.refreshed.extend(ok)
    index = index or _index
    if index is not None:
        for pk, stamp in stamps.items():
            index.note_written(pk, stamp)
    return gone


def _delete(pks: list[int]) -> None:
    """DELETE these initiatives' lists in one statement (the ORM's delete() reads the
    rows first when signals listen, as the page cache's do; the pages are made stale
    once per refresh instead, by _pages_changed)."""
    if not pks:
        return
    meta = SimilarInitiative._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field("initiative").column)
    marks = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(meta.db_table)} WHERE {column} IN ({marks})",  # noqa: S608 - names from the model
            list(pks),
        )


def _insert(rows: list[tuple[int, int, int, float]]) -> None:
    """INSERT the rows, a thousand to a statement (the ORM's bulk_create builds an object
    per row, and one statement per row costs a round trip each on PostgreSQL)."""
    meta = SimilarInitiative._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(str(meta.get_field(name).column))
        for name in ("initiative", "similar", "rank", "score")
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}",  # noqa: S608 - names from the model
                [value for row in chunk for value in row],
            )


def _clear(pks: Iterable[int], report: RefreshReport) -> None:
    """Initiatives that are not published keep no list."""
    pks = list(pks)
    if not pks:
        return
    with transaction.atomic():
        locked = list(
            Initiative.objects.select_for_update(no_key=True)
            .filter(pk__in=pks)
            .order_by("pk")
            .exclude(state=PublicationState.PUBLISHED)
            .values_list("pk", flat=True)
        )
        _delete(locked)
        Initiative.objects.filter(pk__in=locked).update(similar_computed_at=_database_now())
    report.cleared.extend(locked)


def _pages_changed(report: RefreshReport) -> None:
    """Cached pages show the lists: stale once the writes commit (at once outside a
    transaction), once for a whole refresh rather than per list."""
    if report.refreshed or report.cleared:
        transaction.on_commit(pagecache.invalidate)


def refresh(
    pks: Iterable[int], *, related: bool = True, index: Index | None = None
) -> RefreshReport:
    """Recompute the lists of these initiatives, each in its own transaction; with
    `related`, also those of the initiatives that list one of them, and of those that
    one of them now belongs in (its score beats their last one). `index`: another
    index than this process's (tests of several workers at once)."""
    report = RefreshReport()
    index = index or get_index()
    with index.lock:
        index.sync()
        wanted = set(pks)
        index.load(sorted(wanted - set(index.items)))
        todo = sorted(pk for pk in wanted if pk in index.items)
        _clear(sorted(wanted - set(index.items)), report)
        lists = {}
        for pk in todo:
            lists[pk] = index.neighbours(pk)
        extra: set[int] = set()
        if related and todo:
            extra |= set(
                SimilarInitiative.objects.filter(similar_id__in=todo)
                .order_by()
                .values_list("initiative_id", flat=True)
            )
            extra |= _now_belongs(index, todo)
            extra -= wanted
            for pk in sorted(extra & set(index.items)):
                lists[pk] = index.neighbours(pk)
        for pk in sorted(lists):
            _write_one(index, pk, lists[pk], report)
    _pages_changed(report)
    return report


def _write_one(index: Index, pk: int, chosen: list[Neighbour], report: RefreshReport) -> None:
    for _attempt in range(3):
        item = index.items.get(pk)
        if item is None:  # found gone while writing another list
            return
        gone = _write({pk: chosen}, {pk: (item.updated_at, item.stamp)}, report, index)
        if not gone:
            return
        for other in gone:
            index.remove(other)
        chosen = index.neighbours(pk)


def _now_belongs(index: Index, pks: list[int]) -> set[int]:
    """Initiatives whose list one of `pks` should now be in: it scores above their last
    neighbour (or their list has room and it is good enough)."""
    scores: dict[int, float] = {}
    for pk in pks:
        for neighbour in index.rank(pk, *index.text_scores(pk))[: CANDIDATES // 2]:
            if neighbour.subject >= SUBJECT_SCORE:
                scores[neighbour.id] = max(scores.get(neighbour.id, 0.0), neighbour.score)
    if not scores:
        return set()
    floors: dict[int, tuple[int, float]] = {}
    rows = SimilarInitiative.objects.filter(initiative_id__in=list(scores)).order_by()
    for pk, score in rows.values_list("initiative_id", "score"):
        count, low = floors.get(pk, (0, 1.0))
        floors[pk] = (count + 1, min(low, score))
    found = set()
    for pk, score in scores.items():
        count, low = floors.get(pk, (0, 1.0))
        has_room = count < MIN_SHOWN or (count < MAX_SHOWN and score >= GOOD_SCORE)
        if has_room or score > low:
            found.add(pk)
    return found


def refresh_due(*, limit: int = 500) -> RefreshReport:
    """The housekeeping job: initiatives whose similar_computed_at is cleared (changed),
    and those whose list names an initiative no longer published; and this process's
    index compacted when 1 % of it changed since (a few seconds at 100,000 items, here
    rather than in a refresh)."""
    due = list(
        Initiative.objects.filter(Q(similar_computed_at__isnull=True))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    pointing = list(
        SimilarInitiative.objects.exclude(similar__state=PublicationState.PUBLISHED)
        .order_by()
        .values_list("initiative_id", flat=True)
        .distinct()[:limit]
    )
    unlisted = list(
        SimilarInitiative.objects.exclude(initiative__state=PublicationState.PUBLISHED)
        .order_by()
        .values_list("initiative_id", flat=True)
        .distinct()[:limit]
    )
    index = _index
    if index is not None and index.due_for_compaction():
        with index.lock:
            index.compact()
    if not due and not pointing and not unlisted:
        return RefreshReport()
    report = refresh(due, related=True)
    cleared = RefreshReport()
    _clear(sorted(set(unlisted) - set(report.cleared)), cleared)
    _pages_changed(cleared)
    report.cleared += cleared.cleared
    if pointing:
        more = refresh(sorted(set(pointing) - set(report.refreshed)), related=False)
        report.refreshed += more.refreshed
        report.cleared += more.cleared
        report.skipped += more.skipped
    return report


# --- Everything at once --------------------------------------------------------------------------


@dataclass
class RecomputeReport:
    initiatives: int = 0
    rows: int = 0
    skipped: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "initiatives": self.initiatives,
            "rows": self.rows,
            "skipped": self.skipped,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


WRITE_BATCH = 500


def _analyze(model: type[Model]) -> None:
    """Fresh planner statistics on PostgreSQL: the command runs after large imports and
    restores, before autovacuum has looked, and with stale ones each batch's lookups by
    id turn into scans of the whole table (0.6 s a batch instead of 0.2 s at 100,000)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def recompute_all(*, progress: Progress | None = None) -> RecomputeReport:
    """Every published initiative's list, from a fresh index:

    1. read and analyse every published initiative;
    2. compute all the lists (sparse products, chunk by chunk);
    3. write them, WRITE_BATCH initiatives a transaction (each list replaced whole),
       skipping those changed meanwhile (they stay due for the housekeeping job);
    4. clear the lists of the initiatives that are not published.

    The new index becomes this process's index."""
    global _index
    report = RecomputeReport()
    started = time.perf_counter()
    index = Index(database=f"{connection.vendor}:{connection.settings_dict.get('NAME')}")
    with index.lock:
        _analyze(Initiative)
        index.watermark = _database_now()
        index.full_sync_at = time.monotonic()
        index.load(progress=progress)
        index.compact()
        report.seconds["read"] = time.perf_counter() - started
        step = time.perf_counter()
        lists = dict(index.all_neighbours(progress))
        report.seconds["compute"] = time.perf_counter() - step
        step = time.perf_counter()
        with _index_lock:
            _index = index
        refresh_report = RefreshReport()
        pks = sorted(lists)
        for start in range(0, len(pks), WRITE_BATCH):
            batch = {pk: lists[pk] for pk in pks[start : start + WRITE_BATCH]}
            read = {pk: (index.items[pk].updated_at, index.items[pk].stamp) for pk in batch}
            try:
                gone = _write(batch, read, refresh_report, index)
            except IntegrityError:  # a neighbour deleted between the check and the commit
                gone = set(batch)
            if gone:
                # Lists naming a vanished initiative are written again one by one.
                for other in gone:
                    index.remove(other)
                for pk in batch:
                    if pk in index.items and pk not in refresh_report.refreshed:
                        _write_one(index, pk, index.neighbours(pk), refresh_report)
            if progress:
                progress("Writing", min(start + WRITE_BATCH, len(pks)), len(pks))
        unpublished = Initiative.objects.exclude(state=PublicationState.PUBLISHED).values_list(
            "pk", flat=True
        )
        _clear(
            SimilarInitiative.objects.filter(initiative_id__in=unpublished)
            .order_by()
            .values_list("initiative_id", flat=True)
            .distinct(),
            refresh_report,
        )
        Initiative.objects.exclude(state=PublicationState.PUBLISHED).filter(
            similar_computed_at__isnull=True
        ).update(similar_computed_at=_database_now())
        _analyze(SimilarInitiative)
        report.seconds["write"] = time.perf_counter() - step
    _pages_changed(refresh_report)
    report.initiatives = len(refresh_report.refreshed)
    report.skipped = len(set(refresh_report.skipped))
    report.rows = sum(len(lists[pk]) for pk in set(refresh_report.refreshed) if pk in lists)
    report.seconds["total"] = time.perf_counter() - started
    report.peak_rss_mb = peak_rss_mb()
    return report
