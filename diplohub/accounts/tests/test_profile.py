"""Kenji keeps his own profile; Hugo edits his own institution's page, and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from diplohub.directory.models import Organization, Person

pytestmark = pytest.mark.django_db

PROFILE = "/en/accounts/profile/"


def _profile_data(**changes: str) -> dict[str, str]:
    data = {
        "person-honorific_prefix": "H.E.",
        "person-given_name": "Kenji",
        "person-family_name": "Sato-Example",
        "person-form_of_address": "Excmo. Sr.",
        "person-languages": "ja, en, es",
        "person-email": "kenji.sato@mission.example",
        "person-phone": "+34 600 111 222",
        "account-language": "",
    }
    data.update(changes)
    return data


def test_there_is_no_id_in_the_address_to_tamper_with():
    assert reverse("accounts:profile") == PROFILE


def test_a_member_sees_their_own_profile(client, cast):
    client.force_login(cast.consul)
    response = client.get(PROFILE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="kenji@mission.example"' in html
    assert "Sato-Example" in html
    assert "ana@mission.example" not in html
    assert "Attaché-Example" not in html
    assert 'autocomplete="given-name"' in html


def test_a_member_edits_their_own_profile(client, cast):
    client.force_login(cast.consul)
    response = client.post(PROFILE, _profile_data())
    assert response.status_code == 302
    kenji = Person.objects.get(user=cast.consul)
    assert kenji.honorific_prefix == "H.E."
    assert kenji.form_of_address == "Excmo. Sr."
    assert kenji.languages == ["ja", "en", "es"]
    assert kenji.email == "kenji.sato@mission.example"
    assert kenji.phone == "+34 600 111 222"
    # The change is in the directory's history, signed by Kenji.
    assert kenji.history.first().history_user == cast.consul
    page = client.get(response["Location"])
    assert "Your profile is saved." in page.content.decode()
    assert 'value="ja, en, es"' in page.content.decode()


def test_posting_someone_elses_ids_changes_only_your_own(client, cast):
    ana = Person.objects.get(user=cast.attache)
    client.force_login(cast.consul)
    data = _profile_data(**{"person-given_name": "Hijacked"})
    data.update({"id": str(ana.pk), "person-id": str(ana.pk), "person-user": str(cast.attache.pk)})
    client.post(f"{PROFILE}?pk={ana.pk}&person={ana.pk}", data)
    ana.refresh_from_db()
    assert ana.given_name == "Ana"
    assert ana.email == "ana@mission.example"
    kenji = Person.objects.get(user=cast.consul)
    assert kenji.given_name == "Hijacked"
    assert kenji.user == cast.consul


def test_only_the_profile_fields_can_change(client, cast):
    kenji = Person.objects.get(user=cast.consul)
    client.force_login(cast.consul)
    client.post(PROFILE, _profile_data(**{"person-user": str(cast.staff.pk), "is_staff": "on"}))
    kenji.refresh_from_db()
    cast.consul.refresh_from_db()
    assert kenji.user == cast.consul
    assert not cast.consul.is_staff


def test_changing_the_language_shows_the_profile_in_it(client, cast):
    client.force_login(cast.consul)
    response = client.post(PROFILE, _profile_data(**{"account-language": "ca"}))
    assert response["Location"] == "/ca/accounts/profile/"
    cast.consul.refresh_from_db()
    assert cast.consul.language == "ca"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("person-given_name", "", "This field is required."),
        ("person-email", "not-an-address", "Enter a valid email address."),
        ("person-languages", "english, ja", "is not a two-letter language code"),
        ("person-phone", "call me maybe", "Use digits, spaces"),
        ("person-given_name", "x" * 500, "at most 120 characters"),
        ("account-language", "xx", "Select a valid choice."),
    ],
)
def test_it_explains_bad_input_next_to_the_field(client, cast, field, value, message):
    before = Person.objects.get(user=cast.consul).given_name
    client.force_login(cast.consul)
    response = client.post(PROFILE, _profile_data(**{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    field_id = "id_" + field
    assert f'aria-describedby="{field_id}_error"' in html or f'id="{field_id}_error"' in html
    assert f'id="{field_id}_error"' in html
    assert Person.objects.get(user=cast.consul).given_name == before


def test_an_empty_post_is_a_form_error_not_a_crash(client, cast):
    client.force_login(cast.consul)
    assert client.post(PROFILE, {}).status_code == 400


def test_a_user_without_a_directory_entry_sets_their_language(client, cast):
    client.force_login(cast.host)
    page = client.get(PROFILE)
    assert "not linked to an entry in the directory" in page.content.decode()
    response = client.post(PROFILE, {"account-language": "es", "person-given_name": "Hacker"})
    assert response.status_code == 302
    cast.host.refresh_from_db()
    assert cast.host.language == "es"
    assert not Person.objects.filter(given_name="Hacker").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))
    assert client.post(PROFILE, _profile_data()).status_code == 302


def test_it_rejects_other_methods(client, cast):
    client.force_login(cast.consul)
    assert client.put(PROFILE).status_code == 405
    assert client.delete(PROFILE).status_code == 405


def test_the_form_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.consul)
    assert client.post(PROFILE, _profile_data()).status_code == 403


# --- A host and their institution's page -------------------------------------------------


def _edit_url(org: Organization) -> str:
    return reverse("directory:organization-edit", kwargs={"slug": org.slug})


def _content(description: str) -> dict[str, str]:
    return {"description_en": description, "website": "https://centre.example/"}


def test_a_host_edits_their_institutions_page(client, cast):
    client.force_login(cast.host)
    assert client.get(_edit_url(cast.centre)).status_code == 200
    response = client.post(_edit_url(cast.centre), _content("Exascale computing."))
    assert response.status_code == 302
    cast.centre.refresh_from_db()
    assert cast.centre.description_en == "Exascale computing."
    page = client.get(cast.centre.get_absolute_url()).content.decode()
    assert _edit_url(cast.centre) in page


def test_a_host_cannot_edit_another_organisation(client, cast):
    client.force_login(cast.host)
    assert client.get(_edit_url(cast.japan)).status_code == 403
    assert client.post(_edit_url(cast.japan), _content("Hijacked.")).status_code == 403
    cast.japan.refresh_from_db()
    assert cast.japan.description_en != "Hijacked."
    assert _edit_url(cast.japan) not in client.get(cast.japan.get_absolute_url()).content.decode()


def test_a_host_who_lost_the_role_cannot_edit(client, cast):
    cast.host.groups.clear()
    client.force_login(cast.host)
    assert client.get(_edit_url(cast.centre)).status_code == 403


@pytest.mark.parametrize("persona", ["consul", "attache", "outsider"])
def test_members_and_others_cannot_edit_any_organisation(client, cast, persona):
    client.force_login(getattr(cast, persona))
    for org in [cast.centre, cast.japan]:
        assert client.get(_edit_url(org)).status_code == 403
        assert client.post(_edit_url(org), _content("Hijacked.")).status_code == 403
    assert not Organization.objects.filter(description_en="Hijacked.").exists()


def test_staff_edit_any_organisation(client, cast):
    client.force_login(cast.staff)
    response = client.post(_edit_url(cast.japan), _content("Consular services."))
    assert response.status_code == 302
    cast.japan.refresh_from_db()
    assert cast.japan.description_en == "Consular services."


def test_anonymous_visitors_cannot_edit(client, cast):
    response = client.post(_edit_url(cast.centre), _content("Hijacked."))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))
