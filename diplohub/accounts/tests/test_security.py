"""Security defaults: headers, CSRF, HTTPS settings, configuration errors, staff pages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from sesame.utils import get_query_string

from diplohub.accounts.tests.helpers import PASSWORD
from diplohub.directory.models import Person

pytestmark = pytest.mark.django_db

BIN = Path(sys.executable).parent


def _env(**changes: str) -> dict[str, str]:
    """The environment of a fresh hub process: the demo key, nothing else of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DIPLOHUB_", "DJANGO_"))
        and k not in {"DEBUG", "DATABASE_URL", "ALLOWED_HOSTS", "SECRET_KEY"}
    }
    env.update(DJANGO_SETTINGS_MODULE="diplohub.settings", DIPLOHUB_INSECURE_DEMO="1")
    env.update(changes)
    return env


_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
secure = client.get("/en/accounts/sign-in/", secure=True)
plain = client.get("/en/accounts/sign-in/")
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
}))
"""


def _probe(**env: str) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _PROBE],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Headers ---------------------------------------------------------------------------


def test_public_pages_carry_the_security_headers(client, cast):
    for url in ["/en/", reverse("accounts:sign-in"), cast.japan.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_sign_in_pages_are_never_cached(client):
    for name in ["accounts:sign-in", "accounts:sign-in-link"]:
        assert "no-store" in client.get(reverse(name))["Cache-Control"]


# --- CSRF --------------------------------------------------------------------------------


def test_sign_in_refuses_a_post_without_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:sign-in"), {"username": "sofia", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_sign_in_accepts_the_token_from_its_own_form(cast):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("accounts:sign-in")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("accounts:sign-in"),
        {"username": "sofia", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_every_post_form_carries_a_csrf_token(client, cast):
    client.force_login(cast.staff)
    pages = [reverse("accounts:profile"), reverse("accounts:two-factor")]
    client.force_login(cast.consul)
    pages_member = [reverse("accounts:profile")]
    anonymous = Client()
    anon_pages = [
        reverse("accounts:sign-in"),
        reverse("accounts:sign-in-link"),
        reverse("accounts:sign-in-link-use") + get_query_string(cast.consul),
    ]
    staff = Client()
    staff.force_login(cast.staff)
    for who, urls in [(staff, pages), (client, pages_member), (anonymous, anon_pages)]:
        for url in urls:
            html = who.get(url).content.decode()
            forms = re.findall(r'<form method="post".*?</form>', html, flags=re.S)
            assert forms, url
            for form in forms:
                assert 'name="csrfmiddlewaretoken"' in form, (url, form[:80])


def test_link_confirmation_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    token = get_query_string(cast.consul).split("=", 1)[1]
    assert client.post(reverse("accounts:sign-in-link-use"), {"sesame": token}).status_code == 403


# --- Settings that come from the environment ----------------------------------------------


def test_over_https_cookies_are_secure_and_hsts_is_sent():
    found = _probe(DIPLOHUB_HTTPS="1")
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31536000
    assert found["hsts"] == "max-age=31536000; includeSubDomains"
    assert found["csrf_cookie_secure"] is True
    # Plain HTTP is sent to HTTPS.
    assert found["plain_status"] == 301
    assert found["plain_location"] == "https://testserver/en/accounts/sign-in/"


def test_without_https_nothing_insists_on_it():
    found = _probe()
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0
    assert found["hsts"] is None
    assert found["plain_status"] == 200


def test_debug_is_off_by_default():
    assert _probe()["DEBUG"] is False
    assert _probe(DEBUG="1")["DEBUG"] is True


@pytest.mark.parametrize("url", ["nonsense", "mysql://root@localhost/hub", "postgres://"])
def test_a_bad_database_url_stops_the_hub_with_a_clear_message(url):
    done = subprocess.run(  # noqa: S603
        [str(BIN / "diplohub"), "check"],
        env=_env(DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "DATABASE_URL" in done.stderr
    assert "ImproperlyConfigured" in done.stderr


def test_a_missing_secret_key_stops_production():
    env = _env()
    del env["DIPLOHUB_INSECURE_DEMO"]
    done = subprocess.run(  # noqa: S603
        [str(BIN / "diplohub"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_tests_run_without_debug():
    assert settings.DEBUG is False


# --- Staff pages ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["consul", "attache", "host", "outsider", None])
def test_staff_pages_are_for_staff_only(client, cast, persona):
    kenji = Person.objects.get(user=cast.consul)
    if persona:
        client.force_login(getattr(cast, persona))
    for url in [
        reverse("directory:people"),
        reverse("directory:person", kwargs={"pk": kenji.pk}),
        reverse("admin:index"),
        reverse("admin:directory_person_changelist"),
        reverse("admin:accounts_user_changelist"),
    ]:
        response = client.get(url, follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        if persona:
            assert response.status_code == 403, url
        else:
            assert final.startswith(reverse("accounts:sign-in")), url
        assert "kenji@mission.example" not in response.content.decode()


def test_staff_reach_the_staff_pages(client, cast):
    client.force_login(cast.staff)
    kenji = Person.objects.get(user=cast.consul)
    assert client.get(reverse("directory:people")).status_code == 200
    person = client.get(reverse("directory:person", kwargs={"pk": kenji.pk}))
    assert "kenji@mission.example" in person.content.decode()
    assert client.get(reverse("admin:index")).status_code == 200
