"""Similar initiatives: the text analysis, the algorithm's rules, and the background
refresh (similarity.py, similarity_text.py, the services, the task, the command)."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections
from hypothesis import given, settings
from hypothesis import strategies as st

from diplohub.directory.models import Topic
from diplohub.knowledge import similarity
from diplohub.knowledge import similarity_text as text
from diplohub.knowledge.models import (
    Initiative,
    InitiativeType,
    PublicationState,
    ResponseType,
    SimilarInitiative,
)
from diplohub.knowledge.services import (
    initiative_publish,
    initiative_unpublish,
    similar_recompute_all,
    similar_refresh,
    similar_refresh_due,
    similar_refresh_later,
)
from diplohub.lib import pagecache

COLUMN_LANGUAGES = ("en", "es", "ca")  # the demo's content languages


@pytest.fixture(autouse=True)
def _fresh_index():  # type: ignore[no-untyped-def]
    """Each test starts without this process's index (it would hold another test's
    rows, which the rollback took away)."""
    similarity.forget_index()
    yield
    similarity.forget_index()


@pytest.fixture
def vocab(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "programme": InitiativeType.objects.create(slug="programme", name="Programme"),
        "policy": InitiativeType.objects.create(slug="policy", name="Policy"),
        "science-advice": ResponseType.objects.create(slug="science-advice", name="Advice"),
        "data-sharing": ResponseType.objects.create(slug="data-sharing", name="Data"),
        "health": Topic.objects.create(slug="health", name="Health"),
        "climate": Topic.objects.create(slug="climate", name="Climate"),
        "mobility": Topic.objects.create(slug="mobility", name="Mobility"),
    }


def make(
    vocab: dict[str, Any],
    title: str,
    summary: str = "",
    body: str = "",
    *,
    language: str = "en",
    type: str = "programme",
    topics: tuple[str, ...] = (),
    responses: tuple[str, ...] = (),
    country: str = "ES",
    city: str = "Barcelona",
    state: str = PublicationState.PUBLISHED,
) -> Initiative:
    """An initiative written in `language`; French, Portuguese and Italian texts are
    stored in the default column, as an imported initiative's are."""
    column = language if language in COLUMN_LANGUAGES else "en"
    initiative = Initiative.objects.create(
        government=f"{city} City Council",
        city=city,
        country=country,
        initiative_type=vocab[type],
        languages=[language],
        state=state,
        **{f"title_{column}": title, f"summary_{column}": summary, f"body_{column}": body},
    )
    initiative.topics.set([vocab[t] for t in topics])
    initiative.response_types.set([vocab[r] for r in responses])
    return initiative


def listed(initiative: Initiative) -> list[int]:
    return list(
        SimilarInitiative.objects.filter(initiative=initiative)
        .order_by("rank")
        .values_list("similar_id", flat=True)
    )


VACCINE_CA = (
    "Assaigs clínics de vacunes contra la COVID-19 als hospitals de Barcelona",
    "Els hospitals de la ciutat participen en assaigs clínics de vacunes i busquen voluntaris.",
)
VACCINE_EN = (
    "COVID-19 vaccine clinical trials in Boston hospitals",
    "The city's hospitals take part in clinical trials of new vaccines and look for volunteers.",
)
BIKES_ES = (
    "Carriles bici provisionales durante la pandemia",
    "La ciudad abre nuevos carriles para bicicletas en las calles del centro.",
)
HEAT_FR = (
    "Refuges climatiques pendant les vagues de chaleur",
    "La ville ouvre des écoles et des bibliothèques fraîches aux habitants pendant les canicules.",
)


# --- The text analysis ---------------------------------------------------------------------


def test_it_folds_accents_cedillas_and_the_catalan_middle_dot():
    assert text.words("Col·laboració, ciència i cooperação!") == [
        "collaboracio",
        "ciencia",
        "i",
        "cooperacao",
    ]


def test_cognates_meet_in_one_spelling_across_the_six_languages():
    forms = {
        "en": "cooperation",
        "es": "cooperación",
        "ca": "cooperació",
        "fr": "coopération",
        "pt": "cooperação",
        "it": "cooperazione",
    }
    assert {text.stem(text.fold(word), code) for code, word in forms.items()} == {"coopera"}
    capacity = {"en": "capacity", "es": "capacidad", "ca": "capacitat", "fr": "capacité"}
    assert {text.stem(text.fold(w), code) for code, w in capacity.items()} == {"capac"}


def test_the_lexicon_gives_words_that_are_not_cognates_one_concept():
    vaccine = {
        "en": "vaccines",
        "es": "vacunas",
        "ca": "vacunes",
        "fr": "vaccins",
        "pt": "vacinas",
        "it": "vaccini",
    }
    assert {text.terms(word, code, detect=False)[1][0] for code, word in vaccine.items()} == {
        "~vaccine"
    }
    trial = {"en": "trials", "es": "ensayos", "ca": "assajos", "fr": "essais", "pt": "ensaios"}
    assert {text.terms(w, code, detect=False)[1][0] for code, w in trial.items()} == {"~trial"}


def test_no_two_concepts_of_the_lexicon_share_a_stem_in_one_language():
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for concept, entry in text.parse_lexicon(text.LEXICON_FILE.read_text()).items():
        for code, listed_words in entry.items():
            for word in listed_words:
                for part in text.words(word):
                    key = (code, text.stem(part, code))
                    if seen.setdefault(key, concept) != concept:
                        clashes.append((key, seen[key], concept))
    assert clashes == []


def test_a_bad_lexicon_line_is_refused_with_its_number():
    with pytest.raises(ValueError, match="line 2"):
        text.parse_lexicon("vaccine: en vaccine\nno colon here")
    with pytest.raises(ValueError, match="unknown language 'de'"):
        text.parse_lexicon("vaccine: de Impfstoff")


@pytest.mark.parametrize(
    ("sentence", "language"),
    [
        ("The city opens its schools to the neighbours during the summer", "en"),
        ("La ciudad abre las escuelas a los vecinos durante el verano", "es"),
        ("La ciutat obre les escoles als veïns durant l'estiu amb els seus mestres", "ca"),
        ("La ville ouvre les écoles aux habitants pendant l'été avec des animateurs", "fr"),
        ("A cidade abre as escolas aos moradores durante o verão com os professores", "pt"),
        ("La città apre le scuole agli abitanti durante l'estate con gli insegnanti", "it"),
    ],
)
def test_it_tells_the_language_from_the_function_words(sentence, language):
    assert text.detect_language(text.words(sentence), hint="en") == language


def test_a_text_too_short_to_tell_is_read_in_its_columns_language():
    assert text.detect_language(text.words("Vacunes"), hint="ca") == "ca"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_terms_without_function_words_or_numbers(value):
    language, found = text.terms(value, "en")
    assert language in text.LANGUAGES
    for term in found:
        assert term and term not in text.ALL_STOPWORDS and not term.isdigit()
    assert text.terms(value, "en") == (language, found)  # deterministic


# --- The rules -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_catalan_vaccine_trial_finds_the_english_one(vocab):
    catalan = make(vocab, *VACCINE_CA, language="ca", topics=("health",))
    english = make(vocab, *VACCINE_EN, country="US", city="Boston", topics=("health",))
    bikes = make(vocab, *BIKES_ES, language="es", topics=("mobility",))
    make(vocab, *HEAT_FR, language="fr", country="FR", city="Lyon", topics=("climate",))
    similar_recompute_all()
    assert listed(catalan)[0] == english.pk
    assert listed(english)[0] == catalan.pk
    assert catalan.pk not in listed(bikes)


@pytest.mark.django_db
def test_an_item_is_never_its_own_neighbour_and_lists_hold_at_most_six(vocab):
    items = [
        make(vocab, f"Vaccine clinical trial number {i}", "Hospitals recruit volunteers.")
        for i in range(9)
    ]
    similar_recompute_all()
    for item in items:
        found = listed(item)
        assert item.pk not in found
        assert len(found) == similarity.MAX_SHOWN
        assert len(set(found)) == len(found)


@pytest.mark.django_db
def test_unpublished_initiatives_are_never_neighbours_and_keep_no_list(vocab):
    published = make(vocab, *VACCINE_EN)
    draft = make(vocab, *VACCINE_CA, language="ca", state=PublicationState.DRAFT)
    submitted = make(vocab, *VACCINE_EN, state=PublicationState.SUBMITTED)
    other = make(vocab, "Vaccine trials in Madrid hospitals", "Volunteers wanted.")
    similar_recompute_all()
    assert listed(published) == [other.pk]
    assert listed(draft) == [] and listed(submitted) == []
    assert not SimilarInitiative.objects.filter(similar__in=[draft, submitted]).exists()


@pytest.mark.django_db
def test_ties_are_broken_by_id_the_older_first(vocab):
    query = make(vocab, "Heatwave shelters in schools")
    twins = [make(vocab, "Heatwave shelters in libraries") for _ in range(4)]
    similar_recompute_all()
    found = listed(query)
    assert found == sorted(found) and set(found) == {t.pk for t in twins}
    scores = set(SimilarInitiative.objects.filter(initiative=query).values_list("score", flat=True))
    assert len(scores) == 1  # a real tie


@pytest.mark.django_db
def test_fewer_than_three_candidates_give_as_many_as_there_are(vocab):
    alone = make(vocab, "Bicycle lanes on the main streets")
    one = make(vocab, "Bicycle lanes near schools")
    make(vocab, "Open data portal of the city council's budget")  # nothing in common
    similar_recompute_all()
    assert listed(alone) == [one.pk]
    assert listed(one) == [alone.pk]


@pytest.mark.django_db
def test_beyond_three_only_clearly_related_initiatives_are_listed(vocab):
    query = make(vocab, *VACCINE_EN, topics=("health",))
    close = [
        make(vocab, "Vaccine clinical trials in Madrid hospitals", "Volunteers wanted.")
        for _ in range(3)
    ]
    # Each shares a single ordinary word with the query, nothing else.
    weak = [
        make(vocab, f"City budget {i} for new part-time staff", type="policy") for i in range(3)
    ]
    similar_recompute_all()
    found = listed(query)
    assert found[:3] == [c.pk for c in close]
    scores = dict(
        SimilarInitiative.objects.filter(initiative=query).values_list("similar", "score")
    )
    assert all(scores[pk] >= similarity.GOOD_SCORE for pk in found[3:])
    assert not {w.pk for w in weak} & set(found[3:])


@pytest.mark.django_db
def test_metadata_decides_between_equal_texts(vocab):
    query = make(vocab, *VACCINE_EN, topics=("health",), responses=("science-advice",))
    plain = make(vocab, *VACCINE_EN, type="policy", country="JP", city="Tokyo")
    alike = make(
        vocab,
        *VACCINE_EN,
        topics=("health",),
        responses=("science-advice",),
        country="ES",
        city="Madrid",
    )
    similar_recompute_all()
    assert listed(query) == [alike.pk, plain.pk]


@pytest.mark.django_db
def test_the_reasons_can_be_shown(vocab):
    catalan = make(vocab, *VACCINE_CA, language="ca", topics=("health",))
    english = make(vocab, *VACCINE_EN, country="US", city="Boston", topics=("health",))
    make(vocab, *BIKES_ES, language="es")
    similar_recompute_all()
    why = similarity.get_index().explain(catalan.pk, english.pk)
    assert why["parts"]["topics"] == 1.0 and why["parts"]["place"] == 0.0
    terms = [term for term, _weight in why["shared_terms"]]
    assert {"~vaccine", "~trial", "~hospital"} <= set(terms)
    assert why["score"] == round(sum(why["weights"][k] * v for k, v in why["parts"].items()), 6)
    written = SimilarInitiative.objects.get(initiative=catalan, similar=english).score
    assert why["score"] == written


@pytest.mark.django_db
def test_one_refresh_and_the_full_recompute_agree(vocab):
    items = [
        make(vocab, *VACCINE_CA, language="ca", topics=("health",)),
        make(vocab, *VACCINE_EN, country="US", topics=("health",)),
        make(vocab, "Ensayos clínicos de vacunas en Madrid", language="es"),
        make(vocab, *BIKES_ES, language="es", topics=("mobility",)),
        make(vocab, "Bicycle lanes during the pandemic", topics=("mobility",)),
        make(vocab, *HEAT_FR, language="fr", country="FR", topics=("climate",)),
        make(vocab, "Climate shelters in heatwaves", "Schools and libraries stay cool."),
    ]
    similar_recompute_all()
    everything = {item.pk: listed(item) for item in items}
    similarity.forget_index()
    for item in items:
        assert [n.id for n in similarity.get_index().neighbours(item.pk)] == everything[item.pk]


# --- Keeping the lists up to date ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_changed_initiative_is_refreshed_by_the_housekeeping_job(vocab):
    vaccine = make(vocab, *VACCINE_EN)
    bikes = make(vocab, *BIKES_ES, language="es")
    other_vaccine = make(vocab, *VACCINE_CA, language="ca")
    other_bikes = make(vocab, "Bicycle lanes in the streets", "New lanes for bicycles.")
    assert similar_refresh_due() == 4
    assert listed(vaccine) == [other_vaccine.pk]
    assert Initiative.objects.filter(similar_computed_at__isnull=True).count() == 0
    assert similar_refresh_due() == 0  # nothing changed

    # The English vaccine initiative becomes one about bicycles (PAGES' services clear
    # similar_computed_at on such a change).
    Initiative.objects.filter(pk=vaccine.pk).update(
        title_en="Bicycle lanes on every street",
        summary_en="Protected lanes for bicycles.",
        similar_computed_at=None,
    )
    similar_refresh_due()
    assert set(listed(vaccine)) == {bikes.pk, other_bikes.pk}
    assert vaccine.pk not in listed(other_vaccine)  # it listed the changed one: refreshed
    assert vaccine.pk in listed(other_bikes)  # it now belongs there: refreshed


@pytest.mark.django_db
def test_a_new_initiative_joins_the_lists_it_belongs_in(vocab):
    first = make(vocab, *VACCINE_EN)
    second = make(vocab, *VACCINE_CA, language="ca")
    similar_refresh_due()
    newcomer = make(vocab, "Ensayos clínicos de vacunas en los hospitales de Madrid", language="es")
    assert [row.similar_id for row in similar_refresh(initiative=newcomer)] == listed(newcomer)
    assert set(listed(newcomer)) == {first.pk, second.pk}
    assert newcomer.pk in listed(first) and newcomer.pk in listed(second)


@pytest.mark.django_db
def test_an_unpublished_or_deleted_initiative_leaves_the_lists(vocab):
    a = make(vocab, *VACCINE_EN)
    b = make(vocab, *VACCINE_CA, language="ca")
    c = make(vocab, "Vaccine trials in Madrid hospitals", "Volunteers wanted.")
    similar_refresh_due()
    assert set(listed(a)) == {b.pk, c.pk}
    # Unpublished without its own similar_computed_at cleared: the job still notices.
    Initiative.objects.filter(pk=b.pk).update(state=PublicationState.DRAFT)
    similar_refresh_due()
    assert listed(a) == [c.pk] and listed(c) == [a.pk] and listed(b) == []
    # Deleted while this process's index still holds it: never written as a neighbour.
    Initiative.objects.filter(pk=c.pk).delete()
    similarity.get_index()  # (the index still has c)
    assert similar_refresh(initiative=a) == []


@pytest.mark.django_db
def test_an_initiative_edited_during_the_computation_is_left_due(vocab):
    a = make(vocab, *VACCINE_EN)
    make(vocab, *VACCINE_CA, language="ca")
    index = similarity.get_index()
    Initiative.objects.filter(pk=a.pk).update(title_en="Changed meanwhile")  # after the read
    report = similarity.RefreshReport()
    item = index.items[a.pk]
    similarity._write(
        {a.pk: index.neighbours(a.pk)}, {a.pk: (None, item.stamp)}, report
    )  # as read: another version
    assert report.skipped == [a.pk] and listed(a) == []


@pytest.mark.django_db
def test_the_task_and_refresh_later_refresh_after_the_commit(
    vocab, django_capture_on_commit_callbacks
):
    from diplohub.knowledge.tasks import refresh_similar

    a = make(vocab, *VACCINE_EN)
    b = make(vocab, *VACCINE_CA, language="ca")
    assert refresh_similar.call(a.pk)["refreshed"] >= 1
    assert listed(a) == [b.pk]
    SimilarInitiative.objects.all().delete()
    Initiative.objects.filter(pk=b.pk).update(similar_computed_at=None)  # as an edit does
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        similar_refresh_later(initiative=b)
        assert listed(b) == []  # nothing before the commit
    assert len([c for c in callbacks if c is not pagecache.invalidate]) == 1  # the task
    assert listed(b) == [a.pk]  # the tests run tasks at once (ImmediateBackend)
    assert pagecache.invalidate in callbacks  # then the cached pages go stale
    assert refresh_similar.call(b.pk)["refreshed"] == 0  # done: a second task finds nothing


@pytest.mark.django_db
def test_publishing_an_initiative_asks_for_its_similar_initiatives_after_the_commit(
    vocab, django_capture_on_commit_callbacks
):
    a = make(vocab, *VACCINE_EN)
    similarity.refresh([a.pk])
    b = make(
        vocab,
        "Vaccine trial volunteers wanted in Barcelona",
        "Hospitals in the city run clinical trials of new vaccines and look for volunteers.",
        state=PublicationState.DRAFT,
    )
    with django_capture_on_commit_callbacks(execute=True):
        initiative_publish(initiative=b)
    assert listed(b) == [a.pk] and listed(a) == [b.pk]  # both lists, from the task
    with django_capture_on_commit_callbacks(execute=True):
        initiative_unpublish(initiative=b)
    assert listed(a) == [] and listed(b) == []


@pytest.mark.django_db
def test_the_job_is_in_the_workers_housekeeping():
    from diplohub.web.management.commands.worker import JOBS

    assert "diplohub.knowledge.services.similar_refresh_due" in JOBS


@pytest.mark.django_db
def test_the_command_recomputes_everything_and_reports_memory(vocab):
    a = make(vocab, *VACCINE_EN)
    b = make(vocab, *VACCINE_CA, language="ca")
    out, err = io.StringIO(), io.StringIO()
    call_command("similar_recompute", stdout=out, stderr=err)
    assert "2 initiatives, 2 similar initiatives written" in out.getvalue()
    assert "peak memory" in out.getvalue()
    assert "Computing" in err.getvalue()  # the progress bars
    assert listed(a) == [b.pk] and listed(b) == [a.pk]


@pytest.mark.django_db(transaction=True)
def test_refreshes_in_parallel_leave_whole_lists(vocab):
    """Several workers refreshing the same initiatives at once (rows locked, lists
    replaced in one transaction): no error, and every list whole, ranked 1..n."""
    items = [make(vocab, f"Vaccine clinical trial {i}", "Hospitals recruit.") for i in range(8)]
    pks = [item.pk for item in items]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            index = similarity.Index()  # each worker process has its own
            index.load()
            barrier.wait()
            for _ in range(3):
                similarity.refresh(pks, related=True, index=index)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for pk in pks:
        ranks = list(
            SimilarInitiative.objects.filter(initiative_id=pk)
            .order_by("rank")
            .values_list("rank", flat=True)
        )
        assert ranks == list(range(1, similarity.MAX_SHOWN + 1))
    assert connection.vendor in {"postgresql", "sqlite"}
