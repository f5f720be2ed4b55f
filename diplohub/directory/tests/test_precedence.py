"""The order of precedence of the consular corps, as a table of cases and as properties."""

import datetime
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diplohub.directory.models import ConsularClass, Kind, Organization, precedence_key

D = datetime.date

# Each case: the posts, given in a scrambled order, and the names in the expected order.
CASES = {
    "career before honorary, whatever the class": (
        [
            (
                "Honorary Consulate-General of Ruritania",
                Kind.HONORARY_CONSULATE,
                "consulate_general",
                D(1990, 1, 1),
            ),
            ("Consular Agency of Freedonia", Kind.CONSULATE, "consular_agency", D(2020, 1, 1)),
        ],
        ["Consular Agency of Freedonia", "Honorary Consulate-General of Ruritania"],
    ),
    "by class within career posts": (
        [
            ("Vice-Consulate of B", Kind.CONSULATE, "vice_consulate", D(2001, 1, 1)),
            ("Consulate of C", Kind.CONSULATE, "consulate", D(2010, 1, 1)),
            ("Consular Agency of A", Kind.CONSULATE, "consular_agency", D(1999, 1, 1)),
            ("Consulate-General of D", Kind.CONSULATE_GENERAL, "consulate_general", D(2015, 1, 1)),
        ],
        ["Consulate-General of D", "Consulate of C", "Vice-Consulate of B", "Consular Agency of A"],
    ),
    "same class: earlier exequatur first": (
        [
            (
                "Consulate-General of Zembla",
                Kind.CONSULATE_GENERAL,
                "consulate_general",
                D(2012, 5, 1),
            ),
            (
                "Consulate-General of Arstotzka",
                Kind.CONSULATE_GENERAL,
                "consulate_general",
                D(2018, 3, 9),
            ),
            (
                "Consulate-General of Borduria",
                Kind.CONSULATE_GENERAL,
                "consulate_general",
                D(2012, 4, 30),
            ),
        ],
        [
            "Consulate-General of Borduria",
            "Consulate-General of Zembla",
            "Consulate-General of Arstotzka",
        ],
    ),
    "same class and date: by name, ignoring case and accents": (
        [
            ("consulado de Perú", Kind.CONSULATE, "consulate", D(2000, 1, 1)),
            ("Consulado de Austria", Kind.CONSULATE, "consulate", D(2000, 1, 1)),
            ("Consulado de Ángola", Kind.CONSULATE, "consulate", D(2000, 1, 1)),
        ],
        ["Consulado de Ángola", "Consulado de Austria", "consulado de Perú"],
    ),
    "no exequatur on record: last in its class, not first": (
        [
            ("Consulate of Unknown Date", Kind.CONSULATE, "consulate", None),
            ("Consulate of Known Date", Kind.CONSULATE, "consulate", D(2024, 1, 1)),
            ("Vice-Consulate of Early", Kind.CONSULATE, "vice_consulate", D(1950, 1, 1)),
        ],
        ["Consulate of Known Date", "Consulate of Unknown Date", "Vice-Consulate of Early"],
    ),
    "honorary posts among themselves: class, then date": (
        [
            (
                "Honorary Vice-Consulate of Q",
                Kind.HONORARY_CONSULATE,
                "vice_consulate",
                D(1980, 1, 1),
            ),
            ("Honorary Consulate of R", Kind.HONORARY_CONSULATE, "consulate", D(2019, 1, 1)),
            ("Honorary Consulate of P", Kind.HONORARY_CONSULATE, "consulate", D(2011, 1, 1)),
        ],
        ["Honorary Consulate of P", "Honorary Consulate of R", "Honorary Vice-Consulate of Q"],
    ),
}


def _create(rows):
    for i, (name, kind, klass, date) in enumerate(rows):
        Organization.objects.create(
            name=name,
            slug=f"post-{i}",
            kind=kind,
            consular_class=klass,
            exequatur_date=date,
            country="FR",
        )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_it_orders_the_consular_corps(db, case):
    rows, expected = CASES[case]
    in_python = sorted(
        rows,
        key=lambda r: precedence_key(
            kind=r[1], consular_class=r[2], exequatur_date=r[3], name=r[0]
        ),
    )
    assert [r[0] for r in in_python] == expected
    _create(rows)
    in_sql = list(
        Organization.objects.consular().in_precedence_order().values_list("name", flat=True)
    )
    assert in_sql == expected


def test_the_diplomatic_list_page_follows_precedence(client, db):
    rows, expected = CASES["by class within career posts"]
    _create(rows)
    html = client.get("/en/directory/diplomatic-list/").content.decode()
    positions = [html.index(name) for name in expected]
    assert positions == sorted(positions)


posts = st.lists(
    st.tuples(
        st.text(
            alphabet=st.characters(codec="utf-8", categories=["L", "Zs"]), min_size=1, max_size=12
        ),
        st.sampled_from([Kind.CONSULATE_GENERAL, Kind.CONSULATE, Kind.HONORARY_CONSULATE]),
        st.sampled_from([c.value for c in ConsularClass]),
        st.one_of(st.none(), st.dates(min_value=D(1950, 1, 1), max_value=D(2030, 12, 31))),
    ),
    max_size=12,
)


def _key(row):
    return precedence_key(kind=row[1], consular_class=row[2], exequatur_date=row[3], name=row[0])


@given(posts)
def test_career_posts_always_come_before_honorary_ones(rows):
    ordered = sorted(rows, key=_key)
    honorary = [r[1] == Kind.HONORARY_CONSULATE for r in ordered]
    assert honorary == sorted(honorary)


@given(posts)
def test_within_career_or_honorary_the_class_never_goes_back_up(rows):
    ranks = {c.value: i for i, c in enumerate(ConsularClass)}
    ordered = sorted(rows, key=_key)
    for earlier, later in itertools.pairwise(ordered):
        if (earlier[1] == Kind.HONORARY_CONSULATE) == (later[1] == Kind.HONORARY_CONSULATE):
            assert ranks[earlier[2]] <= ranks[later[2]]


@given(posts)
def test_the_order_does_not_depend_on_the_input_order(rows):
    assert [_key(r) for r in sorted(rows, key=_key)] == [
        _key(r) for r in sorted(reversed(rows), key=_key)
    ]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(posts)
def test_the_database_agrees_with_python(rows):
    Organization.objects.all().delete()
    # Names must differ for the comparison to be meaningful: ties are broken by pk in SQL.
    rows = [(f"{name} {i}", kind, klass, date) for i, (name, kind, klass, date) in enumerate(rows)]
    _create(rows)
    expected = [r[0] for r in sorted(rows, key=_key)]
    assert (
        list(Organization.objects.in_precedence_order().values_list("name", flat=True)) == expected
    )
