"""The organisers' protocol outputs: Sofia and Hugo read the attendee list of the visit
to Hugo's centre; Sofia moves people and registers them; the badges and the order of
precedence come out as PDF."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from pypdf import PdfReader

from diplohub.directory.models import Kind, Organization, Person, Post, PostRole
from diplohub.directory.services import post_assign
from diplohub.events import views
from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import ensure_catalogues, make_event

BASE = "/en/programme/full-visit/"
URL = BASE + "attendees/"


@pytest.fixture
def visit(cast):
    """A visit to Hugo's centre in ten days, 3 seats, 2 per mission, all taken: Kenji
    registered himself, Sofia registered Ana, Marta took over Diego's seat for Mexico.
    Walter and Wendy wait, Carl cancelled."""
    ensure_catalogues()
    event = make_event(
        "full-visit", days=10, host=cast.centre, capacity=3, title_en="Visit to the centre"
    )
    Registration.objects.create(
        event=event,
        person=cast.consul.person,
        organization=cast.japan,
        status="confirmed",
        registered_by=cast.consul,
    )
    Registration.objects.create(
        event=event,
        person=cast.attache.person,
        organization=cast.mexico,
        status="confirmed",
        registered_by=cast.staff,
    )
    diego = Person.objects.create(given_name="Diego", family_name="Delegate-Example")
    marta = Person.objects.create(
        given_name="Marta", family_name="Substitute-Example", email="marta@mission.example"
    )
    Registration.objects.create(
        event=event,
        person=marta,
        organization=cast.mexico,
        status="confirmed",
        substitute_for=diego,
        registered_by=cast.attache,
    )
    for number, name in [(5, "Walter"), (7, "Wendy")]:
        waiting = Person.objects.create(given_name=name, family_name="Waiting-Example")
        Registration.objects.create(
            event=event, person=waiting, status="waitlisted", waitlist_number=number
        )
    carl = Person.objects.create(given_name="Carl", family_name="Cancelled-Example")
    Registration.objects.create(event=event, person=carl, status="cancelled")
    return event


def registration_of(event, given_name):
    return Registration.objects.get(event=event, person__given_name=given_name)


def names(rows):
    return [row.registration.person.name for row in rows]


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# Reading the list ------------------------------------------------------------------


def test_staff_see_everyone_by_group_under_the_counts(client, cast, visit):
    client.force_login(cast.staff)
    response = client.get(URL)
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.capacity, counts.seated, counts.confirmed, counts.left) == (3, 3, 3, 0)
    assert (counts.waitlisted, counts.attended, counts.no_show, counts.cancelled) == (2, 0, 0, 1)
    groups = response.context["attendees"]
    assert names(groups.seated) == [
        "Ana Attaché-Example",
        "Kenji Sato-Example",
        "Marta Substitute-Example",
    ]
    assert names(groups.waiting) == ["Walter Waiting-Example", "Wendy Waiting-Example"]
    assert [row.position for row in groups.waiting] == [1, 2]
    assert names(groups.cancelled) == ["Carl Cancelled-Example"]
    assert [row.by_staff for row in groups.seated] == [True, False, False]

    html = response.content.decode()
    assert "Consul General of Japan in Barcelona" in html and "Science attaché" in html
    assert "Consulate General of Mexico" in html and "Japan" in html
    assert "registered by staff" in html
    assert "substitute for Diego Delegate-Example" in html
    assert "kenji@mission.example" in html and "marta@mission.example" in html
    assert 'hx-trigger="every 5s"' in html
    assert "/en/programme/full-visit/attendees/counts/" in html
    assert html.count('action="/en/programme/full-visit/attendees/') >= 6
    assert 'id="register"' in html
    assert "<script>" not in html.replace('<script src="', "")
    assert ' style="' not in html


def test_the_host_reads_the_list_without_e_mails_or_moves(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kenji Sato-Example" in html and "Walter Waiting-Example" in html
    assert "@mission.example" not in html
    assert "/move/" not in html and 'id="register"' not in html
    assert response.context["counts"].seated == 3


def test_the_host_cannot_search_the_directory(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(URL, {"q": "kenji"}, headers={"HX-Request": "true"})
    assert response.context["candidates"] == []
    assert "/register/" not in response.content.decode()


def test_the_counts_refresh_on_their_own(client, cast, visit):
    registration = registration_of(visit, "Kenji")
    registration.status = RegistrationStatus.ATTENDED
    registration.save()
    client.force_login(cast.host)
    response = client.get(URL + "counts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<dl id="counts"')
    assert '<dd data-count="attended">1</dd>' in html
    assert '<dd data-count="confirmed">2</dd>' in html
    assert '<dd data-count="seated">3</dd>' in html
    assert '<dd data-count="left">0</dd>' in html
    assert 'hx-trigger="every 5s"' in html


def test_it_reads_the_list_in_a_fixed_number_of_queries(
    client, cast, visit, django_assert_max_num_queries
):
    for n in range(30):
        person = Person.objects.create(given_name="Guest", family_name=f"{n:02}")
        Registration.objects.create(
            event=visit, person=person, status="waitlisted", waitlist_number=10 + n
        )
    client.force_login(cast.staff)
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert len(response.context["attendees"].waiting) == 32


# Moving people ---------------------------------------------------------------------


def test_staff_move_kenji_to_the_waitlist_and_walter_gets_his_seat(client, cast, visit):
    client.force_login(cast.staff)
    kenji = registration_of(visit, "Kenji")
    response = client.post(f"{URL}{kenji.pk}/move/", {"status": "waitlisted"})
    assert response.status_code == 302
    assert response["Location"] == URL
    kenji.refresh_from_db()
    walter = registration_of(visit, "Walter")
    assert kenji.status == RegistrationStatus.WAITLISTED
    assert walter.status == RegistrationStatus.CONFIRMED
    assert kenji.history.latest().history_user == cast.staff
    page = client.get(URL)
    assert "Kenji Sato-Example is on the waitlist, number 2." in messages_of(page)
    assert names(page.context["attendees"].waiting) == [
        "Wendy Waiting-Example",
        "Kenji Sato-Example",
    ]


@pytest.mark.parametrize(
    "who,status,expected",
    [
        ("Kenji", "no_show", "No-show"),
        ("Kenji", "cancelled", "Cancelled"),
        ("Walter", "confirmed", "Confirmed"),
        ("Carl", "confirmed", "Confirmed"),
        ("Carl", "waitlisted", None),
    ],
)
def test_staff_move_people_where_they_say(client, cast, visit, who, status, expected):
    client.force_login(cast.staff)
    registration = registration_of(visit, who)
    response = client.post(f"{URL}{registration.pk}/move/", {"status": status}, follow=True)
    registration.refresh_from_db()
    assert registration.status == status
    if expected:
        assert f"{registration.person.name} is now: {expected}." in messages_of(response)
    else:
        assert "is on the waitlist, number 3." in messages_of(response)[0]


def test_staff_can_seat_someone_over_capacity(client, cast, visit):
    client.force_login(cast.staff)
    walter = registration_of(visit, "Walter")
    client.post(f"{URL}{walter.pk}/move/", {"status": "confirmed"})
    assert client.get(URL).context["counts"].seated == 4


@pytest.mark.parametrize("status", ["vip", "", "CONFIRMED", "x" * 5000])
def test_an_unknown_status_is_refused_with_a_message(client, cast, visit, status):
    client.force_login(cast.staff)
    kenji = registration_of(visit, "Kenji")
    response = client.post(f"{URL}{kenji.pk}/move/", {"status": status}, follow=True)
    assert response.status_code == 200
    assert "Unknown registration status." in messages_of(response)
    kenji.refresh_from_db()
    assert kenji.status == RegistrationStatus.CONFIRMED


def test_a_registration_of_another_event_cannot_be_moved_from_here(client, cast, visit):
    other = make_event("other-visit", host=cast.centre)
    elsewhere = Registration.objects.create(
        event=other, person=cast.consul.person, organization=cast.japan, status="confirmed"
    )
    client.force_login(cast.staff)
    assert client.post(f"{URL}{elsewhere.pk}/move/", {"status": "cancelled"}).status_code == 404
    assert client.post(f"{URL}999999/move/", {"status": "cancelled"}).status_code == 404
    assert client.post(f"{URL}{10**30}/move/", {"status": "cancelled"}).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == RegistrationStatus.CONFIRMED


def test_the_host_cannot_move_people(client, cast, visit):
    client.force_login(cast.host)
    kenji = registration_of(visit, "Kenji")
    response = client.post(f"{URL}{kenji.pk}/move/", {"status": "cancelled"})
    assert response.status_code == 403
    kenji.refresh_from_db()
    assert kenji.status == RegistrationStatus.CONFIRMED


# Registering someone on their behalf ------------------------------------------------


@pytest.fixture
def marie(cast):
    france = Organization.objects.create(
        kind=Kind.CONSULATE, name="Consulate of France", slug="consulate-of-france", country="FR"
    )
    person = Person.objects.create(
        given_name="Marie", family_name="Curie-Example", email="marie@fr.example"
    )
    post_assign(
        post=Post.objects.create(
            organization=france, label="Consul of France", role="head_of_mission"
        ),
        person=person,
    )
    return person


def test_staff_search_the_directory(client, cast, visit, marie):
    client.force_login(cast.staff)
    response = client.get(URL, {"q": "curie"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<ul class="candidates"')
    assert "Marie Curie-Example" in html and "Consul of France, Consulate of France" in html
    assert f'name="person" value="{marie.pk}"' in html
    assert "Kenji" not in html

    registered = client.get(URL, {"q": "kenji"}, headers={"HX-Request": "true"}).content.decode()
    assert "Registered: Confirmed" in registered
    assert 'name="person"' not in registered

    page = client.get(URL, {"q": "curie"})
    assert "Marie Curie-Example" in page.content.decode()
    assert "Kenji Sato-Example" in page.content.decode()


def test_a_search_that_matches_nobody_says_so(client, cast, visit):
    client.force_login(cast.staff)
    html = client.get(URL, {"q": "zzzz"}, headers={"HX-Request": "true"}).content.decode()
    assert "Nobody in the directory matches." in html


def test_staff_register_marie_on_her_behalf(client, cast, visit, marie):
    client.force_login(cast.staff)
    response = client.post(URL + "register/", {"person": marie.pk, "q": "curie"})
    assert response.status_code == 302
    assert response["Location"] == URL + "?q=curie#register"
    registration = Registration.objects.get(event=visit, person=marie)
    assert registration.status == RegistrationStatus.WAITLISTED  # the event is full
    assert registration.registered_by == cast.staff
    assert registration.organization.name == "Consulate of France"
    page = client.get(URL)
    assert "Marie Curie-Example is on the waitlist, number 3." in messages_of(page)
    row = next(r for r in page.context["attendees"].waiting if r.registration == registration)
    assert row.by_staff and row.post.label == "Consul of France"


def test_staff_register_someone_with_a_seat_when_one_is_free(client, cast, visit, marie):
    registration_of(visit, "Kenji").delete()
    client.force_login(cast.staff)
    response = client.post(URL + "register/", {"person": marie.pk}, follow=True)
    assert "Marie Curie-Example is registered, with a seat." in messages_of(response)
    assert Registration.objects.get(person=marie).status == RegistrationStatus.CONFIRMED


def test_registering_someone_twice_gives_the_same_registration(client, cast, visit):
    client.force_login(cast.staff)
    kenji = registration_of(visit, "Kenji")
    person = cast.consul.person.pk
    response = client.post(URL + "register/", {"person": person}, follow=True)
    assert "Kenji Sato-Example is already registered for this event (Confirmed)." in (
        messages_of(response)
    )
    assert Registration.objects.filter(event=visit, person=person).get() == kenji
    kenji.refresh_from_db()
    assert kenji.registered_by == cast.consul


def test_a_cancelled_person_registered_again_goes_to_the_back_of_the_queue(client, cast, visit):
    client.force_login(cast.staff)
    carl = registration_of(visit, "Carl")
    client.post(URL + "register/", {"person": carl.person_id})
    carl.refresh_from_db()
    assert carl.status == RegistrationStatus.WAITLISTED
    assert carl.registered_by == cast.staff


@pytest.mark.parametrize("person", ["", "abc", "999999", "1" * 40, "²", "-1", "1.0"])
def test_an_unknown_person_is_refused_with_a_message(client, cast, visit, person):
    client.force_login(cast.staff)
    before = Registration.objects.count()
    response = client.post(URL + "register/", {"person": person}, follow=True)
    assert response.status_code == 200
    assert "Please choose a person from the directory." in messages_of(response)
    assert Registration.objects.count() == before


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"days": -3}, "This event has already taken place."),
        ({"status": "cancelled"}, "This event has been cancelled."),
        ({"status": "draft"}, "Registration for this event is not open."),
    ],
)
def test_a_refusal_from_the_service_is_a_message(client, cast, marie, fields, message):
    ensure_catalogues()
    make_event("full-visit", host=cast.centre, **fields)
    client.force_login(cast.staff)
    response = client.post(URL + "register/", {"person": marie.pk}, follow=True)
    assert response.status_code == 200
    assert message in messages_of(response)
    assert not Registration.objects.exists()


def test_the_host_cannot_register_people(client, cast, visit, marie):
    client.force_login(cast.host)
    assert client.post(URL + "register/", {"person": marie.pk}).status_code == 403
    assert not Registration.objects.filter(person=marie).exists()


# Who may come in -------------------------------------------------------------------

PAGES = ["attendees/", "attendees/counts/", "attendees.csv", "badges.pdf", "order-of-precedence/"]
ACTIONS = ["attendees/register/", "attendees/{pk}/move/"]


@pytest.mark.parametrize("who", ["consul", "attache", "outsider"])
def test_members_and_outsiders_get_403(client, cast, visit, who):
    client.force_login(getattr(cast, who))
    kenji = registration_of(visit, "Kenji")
    for page in PAGES:
        assert client.get(BASE + page).status_code == 403, page
    for action in ACTIONS:
        url = BASE + action.format(pk=kenji.pk)
        assert (
            client.post(url, {"status": "cancelled", "person": kenji.person_id}).status_code == 403
        )
    kenji.refresh_from_db()
    assert kenji.status == RegistrationStatus.CONFIRMED


def test_a_host_of_another_organisation_gets_403(client, cast, visit):
    from django.contrib.auth.models import Group

    from diplohub.accounts.models import Role, User

    other = User.objects.create_user(username="hanna", organization=cast.japan)
    other.groups.add(Group.objects.get_or_create(name=Role.HOST)[0])
    client.force_login(other)
    for page in PAGES:
        assert client.get(BASE + page).status_code == 403, page


def test_visitors_are_sent_to_sign_in(client, visit):
    for page in PAGES:
        response = client.get(BASE + page)
        assert response.status_code == 302, page
        assert "next=" in response["Location"]
    kenji = registration_of(visit, "Kenji")
    response = client.post(f"{URL}{kenji.pk}/move/", {"status": "cancelled"})
    assert response.status_code == 302
    kenji.refresh_from_db()
    assert kenji.status == RegistrationStatus.CONFIRMED


def test_an_unknown_event_is_404(client, cast):
    client.force_login(cast.staff)
    for page in PAGES:
        assert client.get("/en/programme/no-such-event/" + page).status_code == 404


def test_it_rejects_the_wrong_methods(client, cast, visit):
    client.force_login(cast.staff)
    for page in PAGES:
        assert client.post(BASE + page).status_code == 405, page
    kenji = registration_of(visit, "Kenji")
    assert client.get(f"{URL}{kenji.pk}/move/").status_code == 405
    assert client.get(URL + "register/").status_code == 405


def test_the_pages_are_never_cached(client, cast, visit):
    client.force_login(cast.staff)
    for page in PAGES:
        response = client.get(BASE + page)
        assert "private" in response["Cache-Control"], page
        assert "no-store" in response["Cache-Control"], page


# The CSV ---------------------------------------------------------------------------


def rows_of(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_lists_everyone_and_defuses_formulas(client, cast, visit):
    tricky = Person.objects.create(
        given_name='=HYPERLINK("x")', family_name="Example", email="@evil.example"
    )
    Registration.objects.create(event=visit, person=tricky, status="cancelled")
    client.force_login(cast.staff)
    response = client.get(BASE + "attendees.csv")
    assert response.status_code == 200
    assert 'filename="full-visit-attendees.csv"' in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0][-1] == "E-mail"
    assert rows[0][:4] == ["Status", "Waitlist position", "Form of address", "Name"]
    by_name = {row[3]: row for row in rows[1:]}
    assert [row[3] for row in rows[1:]] == [
        "Ana Attaché-Example",
        "Kenji Sato-Example",
        "Marta Substitute-Example",
        "Walter Waiting-Example",
        "Wendy Waiting-Example",
        "Carl Cancelled-Example",
        '\'=HYPERLINK("x") Example',
    ]
    kenji = by_name["Kenji Sato-Example"]
    assert kenji[4:7] == [
        "Consul General of Japan in Barcelona",
        "Consulate General of Japan",
        "Japan",
    ]
    assert kenji[-1] == "kenji@mission.example"
    assert by_name["Ana Attaché-Example"][9] == "yes"
    assert by_name["Marta Substitute-Example"][10] == "Diego Delegate-Example"
    assert by_name["Wendy Waiting-Example"][:2] == ["Waitlisted", "2"]
    assert by_name['\'=HYPERLINK("x") Example'][-1] == "'@evil.example"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", kenji[7])


def test_the_hosts_csv_has_no_e_mail_addresses(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(BASE + "attendees.csv")
    rows = rows_of(response)
    assert "E-mail" not in rows[0]
    assert len(rows) == 7
    assert "@" not in response.content.decode()


# Name badges -----------------------------------------------------------------------


def pdf_text(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # Lines wrap in table cells, and after the hyphen of a double-barrelled name.
    return reader, " ".join(text.replace("-\n", "-").split())


def test_badges_for_the_seated_people_only(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(BASE + "badges.pdf")
    assert 'filename="full-visit-badges.pdf"' in response["Content-Disposition"]
    reader, text = pdf_text(response)
    assert len(reader.pages) == 1
    assert "Kenji Sato-Example" in text and "Marta Substitute-Example" in text
    assert "Consul General of Japan in Barcelona" in text
    assert "Consulate General of Mexico" in text
    assert "Visit to the centre" in text
    assert "Walter" not in text and "Carl" not in text
    assert "@" not in text


def test_badges_fill_a_sheet_of_eight_then_the_next(client, cast, visit):
    for n in range(6):
        person = Person.objects.create(
            given_name=f"Guest{n}",
            family_name="Example",
            honorific_prefix="Dr",
            email="g@x.example",
        )
        Registration.objects.create(event=visit, person=person, status="attended")
    client.force_login(cast.staff)
    reader, text = pdf_text(client.get(BASE + "badges.pdf"))
    assert len(reader.pages) == 2  # 9 people
    assert "Dr Guest5 Example" in text
    assert "@" not in text


def test_an_event_with_nobody_seated_gives_one_page(client, cast):
    ensure_catalogues()
    make_event("full-visit", host=cast.centre)
    client.force_login(cast.staff)
    reader, text = pdf_text(client.get(BASE + "badges.pdf"))
    assert len(reader.pages) == 1
    assert "Nobody has a seat at this event yet." in text


def test_the_qr_code_carries_the_check_in_code():
    import segno

    uri = views._qr_data_uri("abc123")
    assert uri.startswith("data:image/png;base64,")
    assert uri == segno.make("abc123", error="m").png_data_uri(scale=4, border=0)


# The order of precedence -----------------------------------------------------------


@pytest.fixture
def ceremony(cast, visit):
    """Mexico's post was recognised before Japan's, so its delegates come first; an
    honorary consul follows the career posts; Hugo's centre and a guest come last."""
    cast.mexico.exequatur_date = datetime.date(2010, 5, 1)
    cast.mexico.save()
    cast.japan.exequatur_date = datetime.date(2015, 5, 1)
    cast.japan.save()
    malta = Organization.objects.create(
        kind=Kind.HONORARY_CONSULATE,
        consular_class="consulate",
        name="Honorary Consulate of Malta",
        slug="malta",
        country="MT",
        exequatur_date=datetime.date(1990, 1, 1),
    )
    mario = Person.objects.create(
        given_name="Mario", family_name="Aquilina-Example", form_of_address="Ilmo. Sr."
    )
    post_assign(
        post=Post.objects.create(
            organization=malta, label="Honorary Consul", role="head_of_mission"
        ),
        person=mario,
    )
    Registration.objects.create(event=visit, person=mario, organization=malta, status="confirmed")
    aiko = Person.objects.create(given_name="Aiko", family_name="Abe-Example")
    post_assign(
        post=Post.objects.create(
            organization=cast.japan, label="Science attaché", role=PostRole.ATTACHE, position=1
        ),
        person=aiko,
    )
    Registration.objects.create(
        event=visit, person=aiko, organization=cast.japan, status="attended"
    )
    hugo = Person.objects.create(
        given_name="Hugo", family_name="Host-Example", honorific_prefix="Dr"
    )
    Registration.objects.create(
        event=visit, person=hugo, organization=cast.centre, status="confirmed"
    )
    guest = Person.objects.create(given_name="Gina", family_name="Guest-Example")
    Registration.objects.create(event=visit, person=guest, status="confirmed")
    person = cast.consul.person
    person.form_of_address = "Excmo. Sr."
    person.honorific_prefix = "H.E."
    person.save()
    # A no-show is not on the list (nor are the waiting and the cancelled).
    nobody = Person.objects.create(given_name="Nora", family_name="No-Show-Example")
    Registration.objects.create(event=visit, person=nobody, organization=malta, status="no_show")
    return visit


ORDER = [
    "Ana Attaché-Example",  # Mexico, recognised in 2010: its head holds no seat, its attaché…
    "Marta Substitute-Example",  # …and a delegate without a post there
    "H.E. Kenji Sato-Example",  # Japan, 2015: the head of mission first
    "Aiko Abe-Example",  # then the attaché
    "Mario Aquilina-Example",  # the honorary consul after the career posts
    "Gina Guest-Example",  # then everyone else, by name
    "Dr Hugo Host-Example",
]


def test_the_order_of_precedence(client, cast, ceremony):
    client.force_login(cast.host)
    response = client.get(BASE + "order-of-precedence/")
    assert response.status_code == 200
    attendees = response.context["attendees"]
    assert [a.person.public_name for a in attendees] == ORDER
    assert [a.number for a in attendees] == list(range(1, 8))
    html = response.content.decode()
    assert "Excmo. Sr." in html and "Ilmo. Sr." in html
    positions = [html.index(f">{name}</th>") for name in ORDER]
    assert positions == sorted(positions)
    assert "@" not in re.sub(r"<(header|footer).*?</\1>", "", html, flags=re.S)
    assert 'href="?format=pdf"' in html
    assert "/static/events/protocol.css" in html


def test_the_order_of_precedence_as_a_pdf(client, cast, ceremony):
    client.force_login(cast.staff)
    response = client.get(BASE + "order-of-precedence/", {"format": "pdf"})
    assert "full-visit-order-of-precedence.pdf" in response["Content-Disposition"]
    reader, text = pdf_text(response)
    assert len(reader.pages) == 1
    positions = [text.index(name) for name in ORDER]
    assert positions == sorted(positions)
    assert "Excmo. Sr." in text and "Consul General of Japan in Barcelona" in text
    assert "Walter" not in text and "Nora" not in text
    assert "@" not in text


def test_the_order_of_precedence_speaks_spanish(client, cast, ceremony):
    client.force_login(cast.staff)
    response = client.get("/es/programme/full-visit/order-of-precedence/")
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()


# Links -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["", "check-in/", "report/"])
def test_the_organisers_pages_link_the_protocol_outputs(client, cast, visit, page):
    client.force_login(cast.host)
    html = client.get(BASE + page).content.decode()
    for target in ("attendees/", "badges.pdf", "order-of-precedence/"):
        assert f'href="{BASE}{target}"' in html, (page, target)


def test_members_see_no_link_to_the_protocol_outputs(client, cast, visit):
    client.force_login(cast.consul)
    html = client.get(BASE).content.decode()
    assert "attendees/" not in html and "badges.pdf" not in html
