"""Full-text search of the knowledge hub: initiatives, scientific developments,
publications and press, with filters and their counts, in the visitor's language first.

One interface, two engines (search_sql.py): PostgreSQL's full text search in
production, SQLite's FTS5 in the embedded default. Both work from the same table,
`SearchDocument`: one row per published item with its own texts in each content
language (never another language's, so each is stemmed as what it is) and the values
it is filtered by.

    index_item(item)      after saving or publishing: the item as it is now (an item
                          that is not published is taken out); cheap when nothing
                          changed, safe to call twice
    remove_item(item)     after unpublishing, before deleting
    reindex(progress=…)   the whole catalogue again (`diplohub search_reindex`)
    search(query=…, language=…, filters=…, page=…) → Results

The services call index_item and remove_item explicitly, in their transaction; nothing
here listens to signals. Whatever was missed, reindex puts right.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from django_countries import countries

from diplohub.directory.models import Topic
from diplohub.knowledge import search_sql, slugs
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeType,
    PressItem,
    Publication,
    PublicationState,
    SearchDocument,
    SearchKind,
    SearchText,
)
from diplohub.knowledge.search_text import (
    LANGUAGES,
    MARK_END,
    MARK_START,
    clean,
    has_marks,
    lead,
    markdown_text,
    marked_html,
    parse_query,
)

PAGE_SIZE = 20
FACET_LIMIT = 50  # values shown per facet, the most frequent first (chosen ones always)
MAX_FILTER_VALUES = 20
MAX_FILTER_LENGTH = 120

KINDS: dict[str, type[models.Model]] = {
    SearchKind.INITIATIVE: Initiative,
    SearchKind.DEVELOPMENT: Development,
    SearchKind.PUBLICATION: Publication,
    SearchKind.PRESS: PressItem,
}
KIND_LABELS = {
    SearchKind.INITIATIVE: gettext_lazy("Initiative"),
    SearchKind.DEVELOPMENT: gettext_lazy("Scientific development"),
    SearchKind.PUBLICATION: gettext_lazy("Publication"),
    SearchKind.PRESS: gettext_lazy("Press"),
}
FACET_LABELS = {
    "kind": gettext_lazy("Kind of item"),
    "type": gettext_lazy("Type of initiative"),
    "topic": gettext_lazy("Topic"),
    "country": gettext_lazy("Country"),
    "city": gettext_lazy("City"),
    "language": gettext_lazy("Language"),
    "year": gettext_lazy("Year"),
}
FACETS = tuple(FACET_LABELS)
_DOCUMENT_FIELDS = [
    "language",
    "initiative_type",
    "country",
    "city",
    "date",
    "year",
    "topics",
    "languages",
]
# The document's facets, copied to its text (see SearchText).
_COPIED = ["kind", *(name for name in _DOCUMENT_FIELDS if name != "language")]
_TEXT_FIELDS = [
    *(f"{kind}_{code}" for code in LANGUAGES for kind in ("title", "text")),
    "urls",
    "byline",
    "digest",
    "indexed_at",
    *_COPIED,
]


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str
    kind_label: str
    object_id: int
    url: str
    external: bool  # press: the article, where it was published
    title: SafeString  # escaped, with <mark> around the words found
    title_language: str
    snippet: SafeString  # escaped, with <mark> around the words found
    snippet_language: str
    byline: str
    city: str
    country: str
    country_name: str
    date: Any  # datetime.date


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int  # items this value gives, the other facets' filters applied
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[FacetValue]

    @property
    def selected(self) -> list[FacetValue]:
        return [value for value in self.values if value.selected]


@dataclass(frozen=True)
class Results:
    query: str
    language: str
    filters: dict[str, tuple[str, ...]]
    hits: list[Hit]
    total: int
    page: int
    pages: int
    page_size: int
    facets: list[Facet]
    notices: list[str] = field(default_factory=list)
    engine: str = ""

    def counts(self, facet: str) -> dict[str, int]:
        """{value: items} for one facet, e.g. results.counts("kind")["initiative"]."""
        found = next((f for f in self.facets if f.name == facet), None)
        return {v.value: v.count for v in found.values} if found else {}

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1 if self.hits else 0


# --- Documents ----------------------------------------------------------------------------


def _kind_of(item: models.Model) -> str | None:
    for kind, model in KINDS.items():
        if isinstance(item, model):
            return kind
    return None


def _own(item: models.Model, name: str, language: str) -> str:
    """The item's own text in `language` (modeltranslation's column, no fallback)."""
    return (getattr(item, f"{name}_{language}", None) or "").strip()


def _texts(item: Any, kind: str) -> dict[str, tuple[str, str]]:
    texts: dict[str, tuple[str, str]] = {}
    for language in LANGUAGES:
        title = "" if kind == SearchKind.PRESS else _own(item, "title", language)
        summary = _own(item, "summary", language)
        body = "" if kind == SearchKind.PRESS else markdown_text(_own(item, "body", language))
        texts[language] = (clean(title), clean("\n".join(t for t in (summary, body) if t)))
    if kind == SearchKind.PRESS:
        # The article's title stays as printed: in its own language's column.
        column = item.language if item.language in LANGUAGES else settings.LANGUAGE_CODE
        texts[column] = (clean(item.title), texts[column][1])
    if not any(title or text for title, text in texts.values()):
        texts[settings.LANGUAGE_CODE] = (clean(str(item.title or "")), "")
    return texts


def _local_date(moment: Any) -> Any:
    return timezone.localdate(moment) if moment else None


def _document_fields(item: Any, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the index holds for one item (its slugs already fetched): the document's
    fields, and its text's."""
    texts = _texts(item, kind)
    written = [language for language in LANGUAGES if any(texts[language])]
    written = written or [settings.LANGUAGE_CODE]
    first = next(
        (code for code in (settings.LANGUAGE_CODE, *LANGUAGES) if code in written), written[0]
    )
    initiative_type = country = city = byline = ""
    languages: list[str] = []
    if kind == SearchKind.INITIATIVE:
        initiative_type = item.initiative_type.slug
        country, city, byline = str(item.country or ""), item.city, item.government
        languages = [code.strip().lower() for code in item.languages if isinstance(code, str)]
        date = item.start_date
    elif kind == SearchKind.DEVELOPMENT:
        lead_org = item.lead_organization
        if lead_org is not None:
            country, city, byline = str(lead_org.country or ""), lead_org.city, lead_org.name
        date = item.start_date
    elif kind == SearchKind.PUBLICATION:
        byline = item.authors_text or (item.working_group.title if item.working_group else "")
        languages, date = [item.language.lower()], item.date
    else:
        byline, languages, date = item.outlet, [item.language.lower()], item.date
        first = item.language.lower() or first
    date = date or _local_date(item.published_at) or _local_date(item.created_at)
    date = date or timezone.localdate()
    meta = clean(" · ".join(part for part in (byline, city) if part))
    for language in written:
        title, body = texts[language]
        texts[language] = (title, f"{body}\n{meta}".strip() if meta else body)
    if kind == SearchKind.PRESS:
        urls = {code: item.url for code, _name in settings.LANGUAGES}
    else:
        urls = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                urls[code] = item.get_absolute_url()
    document: dict[str, Any] = {
        "language": first[:8],
        "initiative_type": initiative_type[:50],
        "country": country[:2],
        "city": clean(city)[:120],
        "date": date,
        "year": date.year,
        "topics": _several(topic.slug for topic in item.topics.all()),
        "languages": _several(code[:8] for code in languages if code) or _several(written),
    }
    text: dict[str, Any] = {
        **{f"title_{code}": texts[code][0] for code in LANGUAGES},
        **{f"text_{code}": texts[code][1] for code in LANGUAGES},
        "urls": urls,
        "byline": clean(byline)[:300],
    }
    fingerprint = json.dumps([document, text], sort_keys=True, default=str).encode()
    text["digest"] = hashlib.sha1(fingerprint, usedforsecurity=False).hexdigest()
    text["indexed_at"] = timezone.now()
    text.update({name: document[name] for name in _COPIED if name != "kind"}, kind=kind)
    return document, text


def _several(values: Iterable[str]) -> str:
    """Values of a list facet as the index keeps them: "|a|b|" (sorted, no "|" inside)."""
    kept = sorted({value.replace("|", "") for value in values} - {""})
    return f"|{'|'.join(kept)}|" if kept else ""


Fields = tuple[dict[str, Any], dict[str, Any]]


def _write(kind: str, documents: Mapping[int, Fields]) -> None:
    """Store the documents of one kind, {object_id: (document fields, text fields)}: new
    ones added, changed ones replaced (the engine's index told), unchanged ones left."""
    engine = search_sql.engine()
    for attempt in range(2):
        try:
            with transaction.atomic():
                stored = {
                    doc.object_id: doc
                    for doc in SearchDocument.objects.select_for_update().filter(
                        kind=kind, object_id__in=list(documents)
                    )
                }
                texts = SearchText.objects.in_bulk([doc.pk for doc in stored.values()])
                old, changed_docs, changed_texts, created = [], [], [], []
                for object_id, (fields, text_fields) in documents.items():
                    doc = stored.get(object_id)
                    text = texts.get(doc.pk) if doc is not None else None
                    if doc is None:
                        created.append(
                            (SearchDocument(kind=kind, object_id=object_id, **fields), text_fields)
                        )
                        continue
                    if text is not None and text.digest == text_fields["digest"]:
                        continue
                    for name, value in fields.items():
                        setattr(doc, name, value)
                    changed_docs.append(doc)
                    if text is None:
                        text = SearchText(document=doc, **text_fields)
                        SearchText.objects.bulk_create([text])
                    else:
                        old.append(copy.copy(text))
                    for name, value in text_fields.items():
                        setattr(text, name, value)
                    changed_texts.append(text)
                if changed_docs:
                    SearchDocument.objects.bulk_update(changed_docs, _DOCUMENT_FIELDS)
                    SearchText.objects.bulk_update(changed_texts, _TEXT_FIELDS)
                new_texts = []
                if created:
                    made = SearchDocument.objects.bulk_create([doc for doc, _text in created])
                    new_texts = SearchText.objects.bulk_create(
                        SearchText(document=doc, **text_fields)
                        for doc, (_doc, text_fields) in zip(made, created, strict=True)
                    )
                engine.documents_written(old=old, new=[*changed_texts, *new_texts])
            return
        except IntegrityError:
            if attempt:  # another process indexed the same new item meanwhile: once more
                raise


def _remove(documents: Iterable[SearchDocument]) -> int:
    ids = [doc.pk for doc in documents]
    if ids:
        texts = SearchText.objects.filter(document_id__in=ids)
        search_sql.engine().documents_written(old=list(texts), new=[])
        texts.delete()
        SearchDocument.objects.filter(pk__in=ids).delete()
    return len(ids)


def index_item(item: models.Model) -> bool:
    """Put a published initiative, development, publication or press item in the index
    as it is now, or take it out if it is not published. Other models are ignored.
    Returns whether the item is in the index."""
    kind = _kind_of(item)
    if kind is None or item.pk is None:
        return False
    if getattr(item, "state", None) != PublicationState.PUBLISHED:
        remove_item(item)
        return False
    slugs.prefetch_slugs([item])
    _write(kind, {item.pk: _document_fields(item, kind)})
    return True


def remove_item(item: models.Model) -> bool:
    """Take an item out of the index (nothing happens if it is not there). Call it
    before deleting the item, while it still has its id."""
    kind = _kind_of(item)
    if kind is None or item.pk is None:
        return False
    with transaction.atomic():
        found = SearchDocument.objects.select_for_update().filter(kind=kind, object_id=item.pk)
        return bool(_remove(found))


_RELATED: dict[str, list[str]] = {
    SearchKind.INITIATIVE: ["initiative_type"],
    SearchKind.DEVELOPMENT: ["lead_organization"],
    SearchKind.PUBLICATION: ["working_group"],
    SearchKind.PRESS: [],
}


def _published(kind: str) -> models.QuerySet[Any]:
    model = KINDS[kind]
    items = model._default_manager.filter(state=PublicationState.PUBLISHED)
    return items.select_related(*_RELATED[kind]).prefetch_related("topics")


def reindex(
    *,
    progress: Callable[[str, int, int], None] | None = None,
    fresh: bool = False,
    batch_size: int = 500,
) -> int:
    """Make the index match the published catalogue. Safe while the hub serves.

    1. `fresh`: empty the index first (after restoring a database without it, or if
       SQLite's FTS index is suspect); searches find less until the end;
    2. every published item, kind by kind, in batches of `batch_size`: documents new
       or changed are written, one transaction per batch; progress(stage, done,
       total) after each (as the importers report theirs: directory.importers.Progress);
    3. documents of items no longer published, or gone, are taken out.

    Returns the number of items in the index."""
    engine = search_sql.engine()
    ids = {
        kind: list(_published(kind).order_by("pk").values_list("pk", flat=True)) for kind in KINDS
    }
    total = sum(len(found) for found in ids.values())
    if fresh:
        with transaction.atomic():
            engine.documents_cleared()
            SearchText.objects.all().delete()
            SearchDocument.objects.all().delete()
    done = 0
    stage = _("Search index")
    if progress is not None:
        progress(stage, done, total)
    for kind, pks in ids.items():
        for start in range(0, len(pks), batch_size):
            batch = list(_published(kind).filter(pk__in=pks[start : start + batch_size]))
            slugs.prefetch_slugs(batch)
            _write(kind, {item.pk: _document_fields(item, kind) for item in batch})
            done += len(pks[start : start + batch_size])
            if progress is not None:
                progress(stage, done, total)
        with transaction.atomic():
            published = _published(kind).values("pk")
            stale = SearchDocument.objects.filter(kind=kind).exclude(object_id__in=published)
            _remove(stale.select_for_update())
    return SearchDocument.objects.count()


# --- Searching ------------------------------------------------------------------------------


def _chosen(filters: Mapping[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    chosen: dict[str, tuple[str, ...]] = {}
    for facet, values in (filters or {}).items():
        if facet not in FACETS:
            raise ValueError(f"Unknown filter {facet!r}: use one of {', '.join(FACETS)}")
        if isinstance(values, str):
            values = [values]
        kept: list[str] = []
        for value in values:
            value = clean(str(value)).strip()[:MAX_FILTER_LENGTH]
            if value and value not in kept:
                kept.append(value)
        if kept:
            chosen[facet] = tuple(kept[:MAX_FILTER_VALUES])
    return chosen


def search(
    *,
    query: str,
    language: str,
    filters: Mapping[str, Iterable[str]] | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Results:
    """Published items matching `query` (words, "phrases", -excluded words; empty:
    everything, newest first) and the filters ({facet: [values]}: values of one facet
    OR-ed, facets AND-ed), matched in the visitor's `language` first. Titles and
    snippets are in that language where the item has it, the words found marked.
    A page past the last gives the last. Raises ValueError only for an unknown facet."""
    language = language if language in LANGUAGES else settings.LANGUAGE_CODE
    chosen = _chosen(filters)
    page_size = max(1, min(page_size, 100))
    parsed = parse_query(query)
    engine = search_sql.engine()
    with translation.override(language):
        notices = _notices(query, parsed)
        wanted = parsed if parsed.searches else None
        page = max(1, page)
        counts, ids = engine.find(
            query=wanted,
            language=language,
            filters=chosen,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        pages = max(1, math.ceil(counts.total / page_size))
        if page > pages:  # past the last page: the last
            page = pages
            ids = engine.ranked(
                query=wanted,
                language=language,
                filters=chosen,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
        documents = SearchDocument.objects.select_related("text").in_bulk(ids)
        shown = [documents[i] for i in ids if i in documents]
        shown = _still_published(shown)
        marks = engine.marks(query=wanted, ids=[doc.pk for doc in shown]) if wanted else {}
        hits = [_hit(doc, marks.get(doc.pk, {}), language) for doc in shown]
        facets = _facets(counts, chosen, language)
    return Results(
        query=parsed.text,
        language=language,
        filters=chosen,
        hits=hits,
        total=counts.total,
        page=page,
        pages=pages,
        page_size=page_size,
        facets=facets,
        notices=notices,
        engine=engine.vendor,
    )


def _notices(raw: str, parsed: Any) -> list[str]:
    notices = []
    if parsed.shortened:
        notices.append(
            _("Your search was long: only its beginning was used (“%(query)s”).")
            % {"query": parsed.text}
        )
    if (raw or "").strip() and not parsed.parts:
        notices.append(_("There were no words to search for, so everything is listed."))
    elif parsed.parts and not parsed.searches:
        notices.append(
            _(
                "Words with a minus in front only leave things out: add a word to look for. "
                "Everything is listed."
            )
        )
    elif parsed.searches and not any(parsed.parts_for(code)[0] for code in LANGUAGES):
        notices.append(_("These words are too common to search for: try more specific ones."))
    return notices


def _still_published(documents: list[SearchDocument]) -> list[SearchDocument]:
    """The index is derived data: should an item have left the catalogue without the
    index being told, its title must still not show. One statement for the page."""
    by_kind: dict[str, list[int]] = {}
    for doc in documents:
        by_kind.setdefault(doc.kind, []).append(doc.object_id)
    if not by_kind:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for kind, pks in by_kind.items():
        table = KINDS[kind]._meta.db_table
        marks = ", ".join(["%s"] * len(pks))
        parts.append(f"SELECT %s, id FROM {table} WHERE state = %s AND id IN ({marks})")  # noqa: S608
        params += [kind, PublicationState.PUBLISHED, *pks]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        published = {(kind, pk) for kind, pk in cursor.fetchall()}
    return [doc for doc in documents if (doc.kind, doc.object_id) in published]


def _languages_for(doc: SearchDocument, language: str) -> list[str]:
    order = [language, doc.language, settings.LANGUAGE_CODE, *LANGUAGES]
    return [code for i, code in enumerate(order) if code in LANGUAGES and code not in order[:i]]


def _fragment(marked: str, text: str) -> str:
    """An ellipsis where a fragment does not reach the start or the end of its text."""
    plain = marked.replace(MARK_START, "").replace(MARK_END, "").strip()
    if not plain.startswith("…") and not text.startswith(plain[:24]):
        marked = "… " + marked.lstrip()
    if not plain.endswith("…") and not text.rstrip().endswith(plain[-24:]):
        marked = marked.rstrip() + " …"
    return marked


def _hit(
    doc: SearchDocument, marks: dict[str, tuple[str | None, str | None]], language: str
) -> Hit:
    text = doc.text
    order = _languages_for(doc, language)
    title_language = next((code for code in order if getattr(text, f"title_{code}")), order[0])
    title = marks.get(title_language, (None, None))[0] or getattr(text, f"title_{title_language}")
    snippet_language, snippet = "", ""
    for code in order:  # where the words were found, the visitor's language first
        marked = marks.get(code, (None, None))[1]
        if marked and has_marks(marked):
            snippet_language = code
            snippet = marked_html(_fragment(marked, getattr(text, f"text_{code}")))
            break
    else:
        for code in order:
            plain = getattr(text, f"text_{code}")
            if plain:
                snippet_language, snippet = code, marked_html(lead(plain))
                break
    return Hit(
        kind=doc.kind,
        kind_label=str(KIND_LABELS[SearchKind(doc.kind)]),
        object_id=doc.object_id,
        url=text.urls.get(language) or next(iter(text.urls.values()), ""),
        external=doc.kind == SearchKind.PRESS,
        title=mark_safe(marked_html(title)),  # escaped; only our <mark> elements
        title_language=doc.language if doc.kind == SearchKind.PRESS else title_language,
        snippet=mark_safe(snippet),  # escaped; only our <mark> elements
        snippet_language=snippet_language or title_language,
        byline=text.byline,
        city=doc.city,
        country=doc.country,
        country_name=_country_name(doc.country, language) if doc.country else "",
        date=doc.date,
    )


@lru_cache(maxsize=4096)
def _language_name(code: str, language: str) -> str:
    with translation.override(language):
        try:
            return str(get_language_info(code)["name_translated"])
        except KeyError:
            return code


@lru_cache(maxsize=4096)
def _country_name(code: str, language: str) -> str:
    with translation.override(language):
        return str(countries.name(code) or code)


def _facets(
    counts: search_sql.Counts, chosen: dict[str, tuple[str, ...]], language: str
) -> list[Facet]:
    values = {facet: dict(found) for facet, found in counts.values.items()}
    for facet, picked in chosen.items():
        for value in picked:
            values[facet].setdefault(value, 0)
    names: dict[str, dict[str, str]] = {
        "kind": {kind.value: str(kind.label) for kind in SearchKind},
        # Objects, not values_list: their names fall back to the default language.
        "type": {t.slug: t.name for t in InitiativeType.objects.filter(slug__in=values["type"])}
        if values["type"]
        else {},
        "topic": {t.slug: t.name for t in Topic.objects.filter(slug__in=values["topic"])}
        if values["topic"]
        else {},
        "country": {code: _country_name(code, language) for code in values["country"]},
        "language": {code: _language_name(code, language) for code in values["language"]},
    }
    facets = []
    for facet in FACETS:
        picked = chosen.get(facet, ())
        labels = names.get(facet, {})
        found = [
            FacetValue(
                value=value,
                label=labels.get(value) or value,
                count=count,
                selected=value in picked,
            )
            for value, count in values[facet].items()
        ]
        if facet == "kind":
            order = [kind.value for kind in SearchKind]
            found.sort(key=lambda v: order.index(v.value) if v.value in order else len(order))
        elif facet == "year":
            found.sort(key=lambda v: v.value, reverse=True)
        else:
            found.sort(key=lambda v: (-v.count, v.label.casefold()))
        by_count = sorted(found, key=lambda v: (not v.selected, -v.count))
        kept = {v.value for v in by_count[: max(FACET_LIMIT, len(picked))]}
        shown = [v for v in found if v.value in kept]
        facets.append(Facet(name=facet, label=str(FACET_LABELS[facet]), values=shown))
    return facets
