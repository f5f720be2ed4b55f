"""Full-text search (search.py): the same stories on SQLite (FTS5) and PostgreSQL.

The catalogue: a Barcelona vaccine-trials initiative in Catalan and English, a Lisbon
treatment network in English only, a Madrid mobility study in Spanish only, a vaccine
candidate (development), a publication on science diplomacy and a Catalan press item,
plus a draft and a submission that nobody may find.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from diplohub.directory.models import Kind, Organization, Topic
from diplohub.knowledge import search, slugs
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeType,
    PressItem,
    Publication,
    PublicationState,
    SearchDocument,
    SearchText,
    WorkingGroup,
)


def publish(item: Any, *topics: Topic) -> Any:
    item.state = PublicationState.PUBLISHED
    item.published_at = item.published_at or timezone.now()
    item.save()
    if topics:
        item.topics.set(topics)
    slugs.slugs_refresh(item)
    search.index_item(item)
    return item


@pytest.fixture
def catalogue(db: Any) -> dict[str, Any]:
    return build_catalogue()


def build_catalogue() -> dict[str, Any]:
    health = Topic.objects.create(slug="health", name_en="Health", name_ca="Salut", name_es="Salud")
    mobility = Topic.objects.create(slug="mobility", name_en="Mobility", name_ca="Mobilitat")
    platform = InitiativeType.objects.create(
        slug="platform", name_en="Platform", name_ca="Plataforma"
    )
    programme = InitiativeType.objects.create(slug="programme", name_en="Programme")
    centre = Organization.objects.create(
        kind=Kind.RESEARCH_CENTRE,
        name="Example Vaccine Institute",
        slug="example-vaccine-institute",
        country="ES",
        city="Barcelona",
    )
    trials = publish(
        Initiative(
            title_ca="Assaigs de vacunes a Barcelona",
            title_en="Vaccine trials in Barcelona",
            summary_ca="Assaigs clínics d'una vacuna contra la COVID-19 i diplomàcia científica.",
            summary_en="Clinical trials of a COVID-19 vaccine, and science diplomacy.",
            government="Barcelona City Council",
            city="Barcelona",
            country="ES",
            initiative_type=platform,
            languages=["ca", "en"],
            start_date=datetime.date(2020, 5, 1),
        ),
        health,
    )
    network = publish(
        Initiative(
            title_en="Treatment network for rare diseases",
            summary_en="Hospitals of the city share treatment protocols with partner cities.",
            government="Lisbon City Council",
            city="Lisbon",
            country="PT",
            initiative_type=programme,
            languages=["pt", "en"],
            start_date=datetime.date(2021, 3, 1),
        ),
        health,
    )
    mobility_study = publish(
        Initiative(
            title_es="Investigación urbana sobre movilidad",
            summary_es="Investigaciones y tratamiento de datos de movilidad sostenible.",
            government="Ayuntamiento de Madrid",
            city="Madrid",
            country="ES",
            initiative_type=programme,
            languages=["es"],
            start_date=datetime.date(2022, 9, 1),
        ),
        mobility,
    )
    candidate = publish(
        Development(
            kind="vaccine",
            title_en="A COVID-19 vaccine candidate",
            title_ca="Una candidata a vacuna de la COVID-19",
            summary_en="Phase I trial of a vaccine made in the city.",
            lead_organization=centre,
            start_date=datetime.date(2021, 1, 15),
        ),
        health,
    )
    brief = publish(
        Publication(
            kind="brief",
            title_en="Science diplomacy in cities",
            summary_en="How cities bring scientific evidence into public debate.",
            authors_text="A. Example et al.",
            date=datetime.date(2023, 3, 1),
            language="en",
        )
    )
    press = publish(
        PressItem(
            title="La ciutat accelera les vacunes",
            summary_en="Coverage of the city's vaccine trials.",
            outlet="Diari Example",
            date=datetime.date(2021, 2, 10),
            language="ca",
            url="https://news.example/vacunes",
        ),
        health,
    )
    draft = Initiative.objects.create(
        title_en="Secret vaccine draft",
        government="Nowhere Council",
        city="Nowhere",
        country="FR",
        initiative_type=platform,
        state=PublicationState.DRAFT,
    )
    submitted = Publication.objects.create(
        kind="report",
        title_en="Waiting vaccine report",
        date=datetime.date(2024, 1, 1),
        language="en",
        state=PublicationState.SUBMITTED,
    )
    return {
        "trials": trials,
        "network": network,
        "mobility": mobility_study,
        "candidate": candidate,
        "brief": brief,
        "press": press,
        "draft": draft,
        "submitted": submitted,
        "health": health,
        "platform": platform,
    }


def found(results: search.Results) -> list[tuple[str, int]]:
    return [(hit.kind, hit.object_id) for hit in results.hits]


def key(item: Any) -> tuple[str, int]:
    return (search._kind_of(item) or "", item.pk)


def hit_of(results: search.Results, item: Any) -> search.Hit:
    return next(hit for hit in results.hits if (hit.kind, hit.object_id) == key(item))


# --- Language-aware matching --------------------------------------------------------------


def test_it_finds_other_forms_of_a_catalan_word(catalogue):
    results = search.search(query="vacunes", language="ca")
    assert key(catalogue["trials"]) in found(results)  # "vacuna" in the summary
    assert key(catalogue["candidate"]) in found(results)  # "vacuna" in its Catalan title
    assert key(catalogue["network"]) not in found(results)


def test_it_finds_the_singular_of_an_english_plural(catalogue):
    results = search.search(query="treatments", language="en")
    assert key(catalogue["network"]) in found(results)


def test_it_finds_spanish_words_by_their_stem(catalogue):
    results = search.search(query="investigaciones", language="es")
    assert found(results) == [key(catalogue["mobility"])]


@pytest.mark.parametrize(
    ("query", "language"),
    [("diplomacia", "ca"), ("DIPLOMÀCIA", "ca"), ("diplomácia", "ca"), ("investigacion", "es")],
)
def test_it_ignores_accents_and_case(catalogue, query, language):
    results = search.search(query=query, language=language)
    assert results.total >= 1
    assert all("<mark>" in hit.title + hit.snippet for hit in results.hits)


def test_a_catalan_visitor_finds_an_initiative_written_only_in_english(catalogue):
    results = search.search(query="rare diseases", language="ca")
    assert found(results) == [key(catalogue["network"])]
    hit = results.hits[0]
    assert hit.title_language == "en"
    assert hit.snippet_language == "en"
    assert hit.url.startswith("/ca/initiatives/")  # the Catalan page, which falls back


def test_the_visitors_language_comes_first(catalogue, db):
    english = publish(
        Initiative(
            title_en="Open data portal",
            summary_en="Open data portal with the city's data.",
            government="Example Council",
            city="Example",
            country="GB",
            initiative_type=catalogue["platform"],
        )
    )
    catalan = publish(
        Initiative(
            title_ca="Portal de dades obertes",
            summary_ca="Portal de dades obertes de la ciutat.",
            government="Consell Exemple",
            city="Exemple",
            country="AD",
            initiative_type=catalogue["platform"],
        )
    )
    assert found(search.search(query="portal", language="ca"))[0] == key(catalan)
    assert found(search.search(query="portal", language="en"))[0] == key(english)


def test_titles_and_snippets_are_in_the_visitors_language_where_the_item_has_it(catalogue):
    results = search.search(query="COVID-19", language="ca")
    trials = hit_of(results, catalogue["trials"])
    assert "Assaigs de vacunes a Barcelona" in trials.title
    assert trials.title_language == trials.snippet_language == "ca"
    assert "<mark>" in trials.snippet
    english = search.search(query="COVID-19", language="en")
    trials = hit_of(english, catalogue["trials"])
    assert "Vaccine trials in Barcelona" in trials.title


def test_a_phrase_keeps_its_words_in_order(catalogue):
    assert found(search.search(query='"clinical trials"', language="en")) == [
        key(catalogue["trials"])
    ]
    assert search.search(query='"trials clinical"', language="en").total == 0


def test_a_minus_leaves_a_word_out(catalogue):
    with_trials = found(search.search(query="vaccine", language="en"))
    without = found(search.search(query="vaccine -clinical", language="en"))
    assert key(catalogue["trials"]) in with_trials
    assert key(catalogue["trials"]) not in without
    assert key(catalogue["candidate"]) in without


def test_press_items_link_to_the_article(catalogue):
    results = search.search(query="accelera", language="en")
    assert found(results) == [key(catalogue["press"])]
    hit = results.hits[0]
    assert hit.external and hit.url == "https://news.example/vacunes"
    assert hit.title_language == "ca"  # as the outlet printed it
    assert hit.byline == "Diari Example"


# --- Filters and counts ---------------------------------------------------------------------


def test_an_empty_query_lists_everything_newest_first_with_counts(catalogue):
    results = search.search(query="", language="en")
    assert results.total == 6
    assert [hit.date for hit in results.hits] == sorted(
        (hit.date for hit in results.hits), reverse=True
    )
    assert results.counts("kind") == {
        "initiative": 3,
        "development": 1,
        "publication": 1,
        "press": 1,
    }
    assert results.counts("type") == {"platform": 1, "programme": 2}
    assert results.counts("topic") == {"health": 4, "mobility": 1}
    assert results.counts("country") == {"ES": 3, "PT": 1}  # the development's is its lead's
    assert results.counts("city") == {"Barcelona": 2, "Lisbon": 1, "Madrid": 1}
    # An initiative's own languages; a development's are those it is written in.
    assert results.counts("language") == {"ca": 3, "en": 4, "es": 1, "pt": 1}
    assert results.counts("year") == {"2020": 1, "2021": 3, "2022": 1, "2023": 1}


def test_a_filter_narrows_and_the_other_facets_count_within_it(catalogue):
    results = search.search(query="", language="en", filters={"kind": ["initiative"]})
    assert results.total == 3
    assert {hit.kind for hit in results.hits} == {"initiative"}
    # The chosen facet still counts every kind (what ticking another would give) …
    assert results.counts("kind")["press"] == 1
    # … the others count initiatives only.
    assert results.counts("topic") == {"health": 2, "mobility": 1}
    assert results.counts("year") == {"2020": 1, "2021": 1, "2022": 1}


def test_values_of_one_facet_widen_and_facets_narrow(catalogue):
    either = search.search(query="", language="en", filters={"kind": ["initiative", "press"]})
    assert either.total == 4
    both = search.search(
        query="", language="en", filters={"kind": ["initiative"], "topic": ["health"]}
    )
    assert set(found(both)) == {key(catalogue["trials"]), key(catalogue["network"])}
    assert both.counts("country") == {"ES": 1, "PT": 1}
    by_place = search.search(
        query="", language="en", filters={"country": ["ES"], "city": ["Barcelona"]}
    )
    assert set(found(by_place)) == {key(catalogue["trials"]), key(catalogue["candidate"])}
    in_catalan = search.search(query="", language="en", filters={"language": ["ca"]})
    assert set(found(in_catalan)) == {
        key(catalogue["trials"]),
        key(catalogue["candidate"]),
        key(catalogue["press"]),
    }
    of_2021 = search.search(query="", language="en", filters={"year": ["2021"]})
    assert of_2021.total == 3


def test_counts_follow_the_query(catalogue):
    results = search.search(query="vaccine", language="en", filters={"topic": ["health"]})
    assert set(found(results)) == {
        key(catalogue["trials"]),
        key(catalogue["candidate"]),
        key(catalogue["press"]),
    }
    assert results.counts("kind") == {"initiative": 1, "development": 1, "press": 1}
    assert results.counts("topic") == {"health": 3}


def test_facet_values_have_labels_in_the_visitors_language(catalogue):
    results = search.search(query="", language="ca", filters={"topic": ["health"]})
    topic = next(facet for facet in results.facets if facet.name == "topic")
    health = next(value for value in topic.values if value.value == "health")
    assert (health.label, health.selected) == ("Salut", True)
    country = next(facet for facet in results.facets if facet.name == "country")
    assert {value.label for value in country.values} == {"Espanya", "Portugal"}


def test_a_chosen_value_nothing_has_stays_listed_with_no_items(catalogue):
    results = search.search(query="", language="en", filters={"country": ["ZZ"], "year": ["abc"]})
    assert results.total == 0 and results.hits == []
    country = next(facet for facet in results.facets if facet.name == "country")
    assert [(v.value, v.count, v.selected) for v in country.values if v.selected] == [
        ("ZZ", 0, True)
    ]


def test_an_unknown_filter_is_a_programming_error(catalogue):
    with pytest.raises(ValueError, match="Unknown filter 'colour'"):
        search.search(query="", language="en", filters={"colour": ["red"]})


def test_pages(catalogue):
    first = search.search(query="", language="en", page_size=4)
    second = search.search(query="", language="en", page=2, page_size=4)
    assert (first.pages, len(first.hits), len(second.hits)) == (2, 4, 2)
    assert not set(found(first)) & set(found(second))
    assert (second.first, second.last) == (5, 6)
    past = search.search(query="", language="en", page=99, page_size=4)
    assert past.page == 2 and found(past) == found(second)


# --- What is never found ------------------------------------------------------------------


def test_drafts_and_submissions_are_never_found(catalogue):
    for query in ("secret", "waiting", "vaccine", ""):
        results = search.search(query=query, language="en")
        assert key(catalogue["draft"]) not in found(results)
        assert key(catalogue["submitted"]) not in found(results)
    assert search.index_item(catalogue["draft"]) is False
    assert not SearchDocument.objects.filter(object_id=catalogue["draft"].pk, kind="initiative")


def test_an_unpublished_item_leaves_the_index(catalogue):
    trials = catalogue["trials"]
    trials.state = PublicationState.DRAFT
    trials.save()
    assert search.index_item(trials) is False  # what the services call, whatever the state
    assert key(trials) not in found(search.search(query="vaccine", language="en"))
    assert search.remove_item(trials) is False  # twice: nothing left to remove


def test_an_item_the_index_was_not_told_about_never_shows(catalogue):
    trials = catalogue["trials"]
    Initiative.objects.filter(pk=trials.pk).update(state=PublicationState.REJECTED)
    results = search.search(query="Barcelona", language="en")
    assert key(trials) not in found(results)


def test_indexing_twice_keeps_one_document(catalogue):
    trials = catalogue["trials"]
    before = SearchText.objects.get(document__kind="initiative", document__object_id=trials.pk)
    assert search.index_item(trials) and search.index_item(trials)
    after = SearchText.objects.get(document__kind="initiative", document__object_id=trials.pk)
    assert (after.pk, after.indexed_at) == (before.pk, before.indexed_at)  # unchanged: skipped
    assert SearchDocument.objects.filter(kind="initiative", object_id=trials.pk).count() == 1


def test_a_changed_item_is_found_by_its_new_words_only(catalogue):
    network = catalogue["network"]
    network.title_en = "Orphan disease alliance"
    network.summary_en = "Hospitals share protocols."
    network.save()
    search.index_item(network)
    assert key(network) in found(search.search(query="orphan", language="en"))
    assert key(network) not in found(search.search(query="treatment", language="en"))
    assert key(network) not in found(search.search(query="rare", language="en"))


def test_working_groups_are_not_searched(catalogue):
    group = WorkingGroup.objects.create(title_en="Vaccine group", state=PublicationState.PUBLISHED)
    assert search.index_item(group) is False
    assert search.remove_item(group) is False


# --- Safety -------------------------------------------------------------------------------------

ONLY_MARKS = re.compile(r"<(?!/?mark>)")


def test_snippets_let_no_html_from_the_content_through(catalogue):
    hostile = publish(
        Initiative(
            title_en="<img src=x onerror=alert(1)> Vaccine <b>hub</b>",
            summary_en="<script>alert('x')</script> vaccine <a href='javascript:alert(2)'>link</a>",
            body_en="Vaccine <iframe src='//evil.example'></iframe> text \ue000forged\ue001",
            government="<b>Council</b>",
            city="Example",
            country="FR",
            initiative_type=catalogue["platform"],
        )
    )
    for query in ("vaccine", "forged", "hub", ""):
        hit = hit_of(search.search(query=query, language="en"), hostile)
        for html in (hit.title, hit.snippet):
            assert not ONLY_MARKS.search(html), html
        if query == "vaccine":
            assert "<mark>" in hit.title and "<mark>" in hit.snippet


def test_private_use_characters_cannot_forge_marks(catalogue):
    publish(
        Initiative(
            title_en="Alpha",
            summary_en="alpha \ue000beta\ue001 gamma \ue001",
            government="Council",
            city="Example",
            country="FR",
            initiative_type=catalogue["platform"],
        )
    )
    (hit,) = search.search(query="alpha", language="en").hits
    assert hit.snippet.count("<mark>") == 1 and "<mark>beta" not in hit.snippet


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"vaccine',
        "NEAR(vaccine trials)",
        "NEAR(vaccine trials, 2)",
        "vaccine*",
        "*",
        "(vaccine",
        "vaccine)",
        "()",
        "AND",
        "OR NOT",
        "vaccine AND OR NOT trials",
        "-",
        "--",
        "- -vaccine",
        "title_en:vaccine",
        "{title_en text_en}: vaccine",
        "^vaccine",
        "vac:cine",
        "vaccine & trials | !x <-> y",
        "a' OR 1=1 --",
        "'; DROP TABLE knowledge_searchdocument; --",
        "%_\\",
        "\x00\x01",
        "🙂 vaccine",
        "ǅ ½ q̃ x\u200d",
        "the of and",  # only common words
    ],
)
def test_search_syntax_is_just_text(catalogue, query):
    results = search.search(query=query, language="en", filters={"topic": ["health"]})
    assert results.total >= 0
    assert SearchDocument.objects.count() == 6


def test_a_very_long_query_is_shortened_and_said_so(catalogue):
    results = search.search(query="vaccine " * 1250, language="ca")  # 10,000 characters
    assert results.total >= 1
    assert len(results.query) <= 200
    assert results.notices and "llarga" in results.notices[0]  # said in Catalan
    one_word = search.search(query="x" * 10_000, language="en")
    assert one_word.total == 0 and one_word.notices


def test_only_common_words_find_nothing_and_say_so(catalogue):
    results = search.search(query="a", language="en")  # common in all three languages
    assert results.total == 0
    assert results.notices == ["These words are too common to search for: try more specific ones."]


def test_nothing_to_search_for_lists_everything_and_says_so(catalogue):
    for query in ("((( )))", "-vaccine"):
        results = search.search(query=query, language="en")
        assert results.total == 6
        assert len(results.notices) == 1


# --- Reindex ---------------------------------------------------------------------------------


def test_reindex_puts_right_what_the_index_missed(catalogue):
    trials, network = catalogue["trials"], catalogue["network"]
    Initiative.objects.filter(pk=trials.pk).update(state=PublicationState.DRAFT)  # not told
    Initiative.objects.filter(pk=catalogue["draft"].pk).update(
        state=PublicationState.PUBLISHED, published_at=timezone.now()
    )
    search.remove_item(network)  # lost
    seen: list[tuple[str, int, int]] = []
    count = search.reindex(progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert count == 6
    assert seen[0][1:] == (0, 6) and seen[-1][1:] == (6, 6)
    assert key(network) in found(search.search(query="treatment", language="en"))
    assert key(catalogue["draft"]) in found(search.search(query="secret", language="en"))
    assert key(trials) not in found(search.search(query="", language="en"))


def test_a_fresh_reindex_builds_the_index_from_nothing(catalogue):
    assert search.reindex(fresh=True, batch_size=2) == 6
    assert search.search(query="vacunes", language="ca").total == 3
    assert search.search(query="treatments", language="en").total == 1


def test_the_reindex_command(catalogue, capsys):
    call_command("search_reindex", "--fresh")
    assert "6 items in the search index." in capsys.readouterr().out
    call_command("search_reindex", "--if-empty")  # already full: nothing to do
    assert capsys.readouterr().out == ""


def _brute_force(
    filters: dict[str, list[str]], among: set[int] | None = None
) -> tuple[int, dict[str, dict[str, int]]]:
    """What find() must say, counted row by row in Python (`among`: the documents the
    words match; None: without words, all)."""
    from diplohub.knowledge.search_sql import FACETS, LIST_FACETS

    def values(doc: SearchDocument, facet: str) -> list[str]:
        raw = str(getattr(doc, FACETS[facet]))
        return [v for v in raw.strip("|").split("|") if v] if facet in LIST_FACETS else [raw]

    def passes(doc: SearchDocument, leave_out: str = "") -> bool:
        return all(
            set(values(doc, facet)) & set(wanted)
            for facet, wanted in filters.items()
            if wanted and facet != leave_out
        )

    documents = [d for d in SearchDocument.objects.all() if among is None or d.pk in among]
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for facet in FACETS:
        for doc in documents:
            if passes(doc, leave_out=facet):
                for value in values(doc, facet):
                    if value:
                        counts[facet][value] = counts[facet].get(value, 0) + 1
    return sum(passes(doc) for doc in documents), counts


FILTER_VALUES = {
    "kind": ["initiative", "development", "publication", "press"],
    "type": ["platform", "programme"],
    "topic": ["health", "mobility"],
    "country": ["ES", "PT"],
    "city": ["Barcelona", "Lisbon", "Madrid"],
    "language": ["ca", "en", "es"],
    "year": ["2020", "2021", "2022"],
}


@pytest.mark.django_db
def test_counts_agree_with_counting_by_hand():
    """Combinations of filters of up to three facets, with one or two values each,
    without words or with a word: the total and each facet's counts (with the other
    facets' filters) as counted row by row among what the words match. The statements
    keep only the rows that meet all the filters but one at most."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from diplohub.knowledge.search_sql import engine

    build_catalogue()
    matched = {}
    for word in ("vaccine", "science", "city"):
        query = search.parse_query(word)
        _counts, ids = engine().find(query=query, language="en", filters={}, offset=0, limit=100)
        matched[word] = (query, set(ids))
    assert all(ids for _query, ids in matched.values())  # each word finds something
    choices = st.dictionaries(
        st.sampled_from(sorted(FILTER_VALUES)), st.just(None), max_size=3
    ).flatmap(
        lambda chosen: st.fixed_dictionaries(
            {
                facet: st.lists(st.sampled_from(FILTER_VALUES[facet]), min_size=1, max_size=2)
                for facet in chosen
            }
        )
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(choices, st.sampled_from([None, *matched]))
    def check(filters: dict[str, list[str]], word: str | None) -> None:
        query, among = matched[word] if word else (None, None)
        counts, _ids = engine().find(
            query=query, language="en", filters=filters, offset=0, limit=20
        )
        total, expected = _brute_force(filters, among)
        assert counts.total == total
        assert {f: v for f, v in counts.values.items() if v} == {
            f: v for f, v in expected.items() if v
        }

    check()
