"""The visitors' page cache: fast for repeat visits, never stale after a change."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from diplohub.directory.models import Organization


def test_a_repeat_visit_is_served_without_touching_the_database(client, cast):
    url = "/en/directory/diplomatic-community/"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert len(queries) == 0


def test_a_change_shows_on_the_next_visit(client, cast):
    url = "/en/directory/consulate-general-of-japan/"
    assert "Consulate General of Japan" in client.get(url).content.decode()
    japan = Organization.objects.get(pk=cast.japan.pk)
    japan.name_en = "Consulate-General of Japan in Barcelona"
    japan.save()
    assert "Consulate-General of Japan in Barcelona" in client.get(url).content.decode()


def test_a_topic_added_to_an_organisation_shows_at_once(client, cast):
    from diplohub.directory.models import Topic

    url = "/en/directory/ecosystem/"
    assert "Space" not in client.get(url).content.decode()
    cast.centre.topics.add(Topic.objects.create(slug="space", name_en="Space"))
    assert "Space" in client.get(url).content.decode()


def test_signed_in_users_always_get_a_fresh_page(client, cast):
    client.force_login(cast.staff)
    url = "/en/directory/diplomatic-community/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) > 0


def test_languages_and_htmx_fragments_are_cached_apart(client, cast):
    url = "directory/diplomatic-community/"
    english = client.get(f"/en/{url}").content.decode()
    catalan = client.get(f"/ca/{url}").content.decode()
    fragment = client.get(f"/en/{url}", headers={"HX-Request": "true"}).content.decode()
    assert '<html lang="en">' in english
    assert '<html lang="ca">' in catalan
    assert "<html" not in fragment


def test_the_security_headers_are_on_cached_pages_too(client, cast):
    url = "/en/directory/diplomatic-community/"
    client.get(url)
    cached = client.get(url)
    assert "default-src 'self'" in cached["Content-Security-Policy"]
    assert cached["X-Frame-Options"] == "DENY"
    assert cached["Content-Type"].startswith("text/html")
