"""Roles: the staff, host and member groups, and who counts as hub staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from diplohub.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {"staff", "host", "member"}


def test_staff_may_manage_the_directory_and_tokens_and_see_users():
    staff = Group.objects.get(name=Role.STAFF)
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in staff.permissions.all()}
    for model in ["organization", "person", "post", "membership", "topic"]:
        for action in ["view", "add", "change", "delete"]:
            assert f"directory.{action}_{model}" in perms
    assert {"accounts.add_apitoken", "accounts.change_apitoken", "accounts.view_user"} <= perms
    assert "accounts.change_user" not in perms
    assert "accounts.add_user" not in perms
    assert not any(p.startswith("auth.") for p in perms)


def test_the_groups_come_back_after_a_flush():
    # TransactionTestCase and live-server tests flush the database, then Django sends
    # post_migrate, as after a migrate: the roles are restored with Django's permissions.
    Group.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    staff = Group.objects.get(name=Role.STAFF)
    assert staff.permissions.filter(codename="change_organization").exists()
    assert Group.objects.filter(name__in=[Role.HOST, Role.MEMBER]).count() == 2


def test_hosts_and_members_have_no_admin_permissions():
    for role in [Role.HOST, Role.MEMBER]:
        assert not Group.objects.get(name=role).permissions.exists()


def test_who_is_hub_staff(cast):
    assert cast.staff.is_hub_staff
    for persona in [cast.consul, cast.attache, cast.host, cast.outsider]:
        assert not persona.is_hub_staff
    flag_only = User.objects.create_user("flag-only", is_staff=True)
    assert not flag_only.is_hub_staff
    group_only = User.objects.create_user("group-only")
    group_only.groups.add(Group.objects.get(name=Role.STAFF))
    assert not group_only.is_hub_staff
    superuser = User.objects.create_user("root", is_staff=True, is_superuser=True)
    assert superuser.is_hub_staff
    cast.staff.is_active = False
    assert not cast.staff.is_hub_staff


def test_who_may_sign_in_with_a_link(cast):
    assert cast.consul.can_sign_in_with_link
    assert cast.host.can_sign_in_with_link
    assert not cast.staff.can_sign_in_with_link
    assert not cast.outsider.can_sign_in_with_link
    cast.consul.is_staff = True  # e.g. given back-office access
    assert not cast.consul.can_sign_in_with_link


def test_role_checks_cost_one_query_per_page(client, cast):
    # The host's view of their institution asks about roles many times (the nav, the
    # edit link); the backend loads the groups once with the user.
    client.force_login(cast.host)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(cast.centre.get_absolute_url())
    assert response.status_code == 200
    assert response.context["can_edit"]
    group_queries = [q["sql"] for q in queries if '"auth_group"' in q["sql"]]
    assert len(group_queries) == 1, group_queries


def test_staff_use_the_admin_within_their_permissions(client, cast):
    client.force_login(cast.staff)
    assert client.get(reverse("admin:directory_organization_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
