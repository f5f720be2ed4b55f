"""API tokens: made by the `api_token` command or in the admin, sent as Bearer, shown once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from diplohub.accounts import services
from diplohub.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
STAFF_ONLY = "/api/v1/people"  # one of the directory's staff endpoints


def _command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- The command -----------------------------------------------------------------------


def test_the_command_prints_a_new_token_once(client, cast):
    out, err = _command("sofia", "--name", "CRM sync")
    raw = out.strip()
    assert raw.startswith("dh_") and len(raw) > 40
    assert "will not be shown again" in err
    token = ApiToken.objects.get(user=cast.staff)
    assert token.name == "CRM sync"
    assert token.hint == raw[:8]
    # Only the hash is stored: the raw value is in no column of the table.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        assert not any(raw in str(value) for row in cursor.fetchall() for value in row)
    response = client.get(ME, **_bearer(raw))
    assert response.status_code == 200
    assert response.json() == {
        "username": "sofia",
        "name": "",
        "roles": ["staff"],
        "is_staff": True,
    }


def test_the_command_lists_and_revokes_a_token(client, cast):
    raw = _command("kenji", "--name", "calendar")[0].strip()
    listing = _command("kenji", "--list")[0]
    assert raw[:8] in listing and "calendar" in listing and "active" in listing
    assert raw not in listing
    out, _err = _command("kenji", "--revoke", raw[:7])
    assert "Revoked calendar" in out
    assert client.get(ME, **_bearer(raw)).status_code == 401
    assert "revoked" in _command("kenji", "--list")[0]


def test_the_command_revokes_by_the_whole_token_too(cast):
    raw = _command("kenji", "--name", "one")[0].strip()
    _command("kenji", "--revoke", raw)
    assert ApiToken.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--name", "x"], "No user named 'nobody'"),
        (["kenji", "--name", "x" * 101], "Cannot create the token: name"),
        (["kenji", "--revoke", "dh_"], "at least the first 6 characters"),
        (["kenji", "--revoke", "dh_zzzzzz"], "no active token starting with"),
        (["kenji"], "one of the arguments --name --revoke --list is required"),
    ],
)
def test_the_command_explains_what_is_wrong(cast, args, message):
    with pytest.raises(CommandError, match=message):
        _command(*args)
    assert not ApiToken.objects.exists()


def test_the_command_refuses_an_inactive_user(cast):
    cast.consul.is_active = False
    cast.consul.save()
    with pytest.raises(CommandError, match="not active"):
        _command("kenji", "--name", "x")


def test_the_command_refuses_to_guess_between_tokens(cast):
    first, _ = services.api_token_create(user=cast.consul, name="a")
    second, _ = services.api_token_create(user=cast.consul, name="b")
    ApiToken.objects.filter(pk=second.pk).update(hint=first.hint)
    with pytest.raises(CommandError, match="give the whole token"):
        _command("kenji", "--revoke", first.hint)
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2


# --- Authentication on the API --------------------------------------------------------


def test_a_staff_token_reaches_a_staff_endpoint(client, cast):
    _token, raw = services.api_token_create(user=cast.staff, name="reports")
    response = client.get(STAFF_ONLY, **_bearer(raw))
    assert response.status_code == 200
    assert {p["email"] for p in response.json()["items"]} >= {"kenji@mission.example"}


def test_a_member_token_gets_403_from_a_staff_endpoint(client, cast):
    _token, raw = services.api_token_create(user=cast.consul, name="mine")
    assert client.get(ME, **_bearer(raw)).json()["roles"] == ["member"]
    response = client.get(STAFF_ONLY, **_bearer(raw))
    assert response.status_code == 403
    assert response.json() == {"detail": "This endpoint needs a staff token."}


def test_a_staff_flag_without_the_staff_role_is_not_enough(client, cast):
    cast.outsider.is_staff = True
    cast.outsider.save()
    _token, raw = services.api_token_create(user=cast.outsider, name="x")
    assert client.get(STAFF_ONLY, **_bearer(raw)).status_code == 403


def test_a_revoked_token_gets_401(client, cast):
    token, raw = services.api_token_create(user=cast.staff, name="old")
    services.api_token_revoke(token=token)
    response = client.get(STAFF_ONLY, **_bearer(raw))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in response.json()["detail"]


def test_the_token_of_a_deactivated_user_gets_401(client, cast):
    _token, raw = services.api_token_create(user=cast.staff, name="left the hub")
    cast.staff.is_active = False
    cast.staff.save()
    assert client.get(STAFF_ONLY, **_bearer(raw)).status_code == 401
    assert client.get(ME, **_bearer(raw)).status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer dh_not-a-token", "Basic c29maWE6eA==", "Token x"],
)
def test_a_missing_or_unknown_token_gets_401(client, cast, header):
    services.api_token_create(user=cast.staff, name="real")
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(STAFF_ONLY, **extra)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Missing or invalid token")


def test_a_session_is_not_a_token(client, cast):
    client.force_login(cast.staff)
    assert client.get(STAFF_ONLY).status_code == 401


def test_using_a_token_records_when(client, cast):
    token, raw = services.api_token_create(user=cast.consul, name="x")
    assert token.last_used_at is None
    client.get(ME, **_bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert (timezone.now() - token.last_used_at).total_seconds() < 60


def test_the_schema_documents_who_am_i(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"][ME]["get"]
    assert set(operation["responses"]) == {"200", "401"}


# --- The admin ---------------------------------------------------------------------------


def _admin_add(client, **data):  # type: ignore[no-untyped-def]
    return client.post(reverse("admin:accounts_apitoken_add"), data, follow=True)


def test_staff_make_a_token_for_themselves_in_the_admin(client, cast):
    client.force_login(cast.staff)
    form = client.get(reverse("admin:accounts_apitoken_add"))
    assert form.status_code == 200
    assert 'name="user"' not in form.content.decode()
    # Naming another user in the post changes nothing: the token is Sofia's.
    response = _admin_add(client, name="newsletter sync", user=str(cast.consul.pk))
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.user == cast.staff
    messages = [str(m) for m in response.context["messages"]]
    [message] = [m for m in messages if "will not be shown again" in m]
    raw = message.rsplit(" ", 1)[1]
    assert token.key_hash != raw and ApiToken.objects.for_raw(raw) == token
    # Shown once: the next page no longer has it.
    later = client.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert raw not in later
    assert token.hint in later


def test_a_superuser_makes_a_token_for_anyone(client, cast):
    cast.staff.is_superuser = True
    cast.staff.save()
    client.force_login(cast.staff)
    _admin_add(client, name="for kenji", user=str(cast.consul.pk))
    assert ApiToken.objects.get().user == cast.consul


def test_the_admin_asks_for_a_name(client, cast):
    client.force_login(cast.staff)
    response = _admin_add(client, name="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_admin_revokes_tokens(client, cast):
    token, raw = services.api_token_create(user=cast.staff, name="x")
    client.force_login(cast.staff)
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [str(token.pk)]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get(ME, **_bearer(raw)).status_code == 401


@pytest.mark.parametrize("persona", ["consul", "host", "outsider"])
def test_only_staff_reach_the_token_admin(client, cast, persona):
    client.force_login(getattr(cast, persona))
    response = client.get(reverse("admin:accounts_apitoken_add"))
    assert response.status_code in (302, 403)
    assert not ApiToken.objects.exists()
