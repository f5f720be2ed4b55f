"""Several people at the door check the same person in at once: one arrival is recorded."""

from __future__ import annotations

import pytest

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.services import registration_check_in
from diplohub.events.tests.stories import make_event
from diplohub.events.tests.test_concurrency import in_parallel


@pytest.mark.django_db(transaction=True)
def test_parallel_check_ins_of_the_same_person_record_one(cast):
    event = make_event("door-visit", days=0, host=cast.centre)
    registration = Registration.objects.create(
        event=event, person=cast.consul.person, organization=cast.japan, status="confirmed"
    )
    doormen = [cast.staff, cast.host] * 8

    results, errors = in_parallel(
        lambda by: registration_check_in(registration=registration, by=by), doormen, threads=8
    )

    assert errors == []
    assert len(results) == len(doormen)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ATTENDED
    assert {r.checked_in_at for r in results} == {registration.checked_in_at}
    assert {r.checked_in_by_id for r in results} == {registration.checked_in_by_id}
    assert registration.history.filter(history_change_reason="checked in").count() == 1
