"""Shared test fixtures: the personas every story is told about.

- Sofia, hub staff
- Kenji Sato-Example, Consul General of Japan (a member)
- Ana Attaché-Example, science attaché of Mexico (a member of another mission)
- Hugo Host-Example, host at a research centre
- Otto Outsider-Example, a signed-in user with no role
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from diplohub.lib.testing import smtp_server  # noqa: F401


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():  # type: ignore[no-untyped-def]
    """Each test starts in the default language.

    The test client runs LocaleMiddleware in this thread, and a request to /ca/ leaves
    Catalan active afterwards; a later fixture's Organization(name=...) would then fill
    name_ca instead of the default language's column."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache (pages, rate-limit counters)."""
    from django.core.cache import cache

    from diplohub.lib import pagecache

    cache.clear()
    pagecache.invalidate()
    yield
    cache.clear()
    pagecache.invalidate()


@dataclass
class Cast:
    staff: object
    consul: object
    attache: object
    host: object
    outsider: object
    japan: object
    mexico: object
    centre: object


@pytest.fixture
def cast(db) -> Cast:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group

    from diplohub.accounts.models import Role, User
    from diplohub.directory.models import Kind, Organization, Person, Post, PostRole
    from diplohub.directory.services import post_assign

    japan = Organization.objects.create(
        kind=Kind.CONSULATE_GENERAL,
        consular_class="consulate_general",
        name="Consulate General of Japan",
        slug="consulate-general-of-japan",
        country="JP",
        city="Barcelona",
    )
    mexico = Organization.objects.create(
        kind=Kind.CONSULATE_GENERAL,
        consular_class="consulate_general",
        name="Consulate General of Mexico",
        slug="consulate-general-of-mexico",
        country="MX",
        city="Barcelona",
    )
    centre = Organization.objects.create(
        kind=Kind.RESEARCH_CENTRE,
        name="Example Supercomputing Centre",
        slug="example-supercomputing-centre",
        country="ES",
        city="Barcelona",
    )
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role}

    def user(username: str, role: Role | None, **extra):  # type: ignore[no-untyped-def]
        u = User.objects.create_user(
            username=username,
            email=f"{username}@example.test",
            password="correct horse battery",
            **extra,
        )
        if role:
            u.groups.add(groups[role])
        return u

    staff = user("sofia", Role.STAFF, is_staff=True)
    consul = user("kenji", Role.MEMBER)
    attache = user("ana", Role.MEMBER)
    host = user("hugo", Role.HOST, organization=centre)
    outsider = user("otto", None)
    for u, org, label, role, given, family in [
        (
            consul,
            japan,
            "Consul General of Japan in Barcelona",
            PostRole.HEAD_OF_MISSION,
            "Kenji",
            "Sato-Example",
        ),
        (attache, mexico, "Science attaché", PostRole.ATTACHE, "Ana", "Attaché-Example"),
    ]:
        person = Person.objects.create(
            given_name=given,
            family_name=family,
            user=u,
            email=f"{given.lower()}@mission.example",
            phone="+34 600 000 000",
        )
        post = Post.objects.create(organization=org, label=label, role=role)
        post_assign(post=post, person=person)
    return Cast(staff, consul, attache, host, outsider, japan, mexico, centre)
