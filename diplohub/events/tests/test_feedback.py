"""After the event: attendees give their feedback once."""

from __future__ import annotations

import pytest

from diplohub.events import services
from diplohub.events.models import Feedback, Registration, RegistrationStatus
from diplohub.events.tests.stories import ensure_catalogues, make_event


@pytest.fixture
def ended(cast):
    ensure_catalogues()
    return make_event("ended-visit", days=-2, host=cast.centre)


def register(event, user, organization, status=RegistrationStatus.ATTENDED):
    return Registration.objects.create(
        event=event, person=user.person, organization=organization, status=status
    )


def test_it_lets_a_consul_who_attended_give_feedback(client, cast, ended):
    registration = register(ended, cast.consul, cast.japan)
    client.force_login(cast.consul)

    mine = client.get("/en/programme/mine/").content.decode()
    assert "/en/programme/ended-visit/feedback/" in mine
    page = client.get("/en/programme/ended-visit/").content.decode()
    assert "/en/programme/ended-visit/feedback/" in page

    form = client.get("/en/programme/ended-visit/feedback/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "<fieldset" in html and "<legend>" in html
    assert 'type="radio" name="rating" value="5"' in html

    response = client.post(
        "/en/programme/ended-visit/feedback/",
        {"rating": "5", "comments": "A superb tour."},
        follow=True,
    )
    assert "Thank you for your feedback." in response.content.decode()
    feedback = Feedback.objects.get(registration=registration)
    assert (feedback.rating, feedback.comments) == (5, "A superb tour.")
    assert (
        "/en/programme/ended-visit/feedback/"
        not in client.get("/en/programme/mine/").content.decode()
    )


def test_it_gives_feedback_only_once(client, cast, ended):
    registration = register(ended, cast.consul, cast.japan)
    services.feedback_give(registration=registration, rating=4, comments="Good.")
    client.force_login(cast.consul)

    response = client.post(
        "/en/programme/ended-visit/feedback/",
        {"rating": "1", "comments": "Changed my mind"},
        follow=True,
    )
    assert "already given feedback" in response.content.decode()
    feedback = Feedback.objects.get(registration=registration)
    assert (feedback.rating, feedback.comments) == (4, "Good.")
    again = client.get("/en/programme/ended-visit/feedback/", follow=True)
    assert "already given feedback" in again.content.decode()


def test_it_refuses_a_consul_who_did_not_attend(client, cast, ended):
    registration = register(ended, cast.consul, cast.japan, status=RegistrationStatus.NO_SHOW)
    client.force_login(cast.consul)
    assert "/feedback/" not in client.get("/en/programme/ended-visit/").content.decode()

    response = client.post("/en/programme/ended-visit/feedback/", {"rating": "5"}, follow=True)
    assert "Only people who attended" in response.content.decode()
    assert not Feedback.objects.exists()
    with pytest.raises(services.RegistrationError) as refused:
        services.feedback_give(registration=registration, rating=5)
    assert refused.value.code == "not_attended"


def test_it_waits_for_the_event_to_end(cast):
    upcoming = make_event("upcoming-visit", days=3)
    registration = register(upcoming, cast.consul, cast.japan)
    with pytest.raises(services.RegistrationError) as refused:
        services.feedback_give(registration=registration, rating=5)
    assert refused.value.code == "not_ended"


def test_the_service_refuses_a_second_feedback(cast, ended):
    registration = register(ended, cast.consul, cast.japan)
    services.feedback_give(registration=registration, rating=3)
    with pytest.raises(services.RegistrationError) as refused:
        services.feedback_give(registration=registration, rating=5)
    assert refused.value.code == "already_given"


@pytest.mark.parametrize(
    "data",
    [
        {"rating": "0"},
        {"rating": "6"},
        {"rating": "five"},
        {"rating": ""},
        {},
        {"rating": "5", "comments": "x" * 4001},
    ],
)
def test_it_answers_bad_input_with_form_errors(client, cast, ended, data):
    register(ended, cast.consul, cast.japan)
    client.force_login(cast.consul)
    response = client.post("/en/programme/ended-visit/feedback/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert not Feedback.objects.exists()


def test_it_shows_people_without_a_registration_a_404(client, cast, ended):
    client.force_login(cast.attache)
    assert client.get("/en/programme/ended-visit/feedback/").status_code == 404
    assert client.post("/en/programme/ended-visit/feedback/", {"rating": "5"}).status_code == 404


def test_it_sends_visitors_to_sign_in(client, ended):
    response = client.get("/en/programme/ended-visit/feedback/")
    assert response.status_code == 302
    assert "sign-in" in response["Location"] or "login" in response["Location"]


def test_it_rejects_other_methods(client, cast, ended):
    register(ended, cast.consul, cast.japan)
    client.force_login(cast.consul)
    assert client.put("/en/programme/ended-visit/feedback/").status_code == 405
