"""The staff API over campaigns: a script of the hub team follows the spring newsletter
(its counts, then each recipient's delivery); a member's token and no token are
refused; an unknown campaign, status or page is answered in JSON."""

from __future__ import annotations

import pytest

from diplohub.accounts.models import ApiToken
from diplohub.mailing import services
from diplohub.mailing.models import EmailStatus, OutboundEmail
from diplohub.mailing.tests import campaign_stories
from diplohub.mailing.tests.campaign_stories import spring

pytestmark = pytest.mark.django_db
readers = campaign_stories.readers


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name="campaign script")
    token.set_raw(raw)
    token.save()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def queued(readers):  # type: ignore[no-untyped-def]
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    OutboundEmail.objects.filter(to=readers.kenji.email).update(status=EmailStatus.SENT, attempts=1)
    OutboundEmail.objects.filter(to=readers.elena.email).update(
        status=EmailStatus.FAILED, attempts=1, last_error="550 5.1.1 No such mailbox"
    )
    return campaign


def test_a_staff_script_follows_the_campaign(client, cast, queued):
    headers = bearer(cast.staff)
    listing = client.get("/api/v1/campaigns", headers=headers)
    assert listing.status_code == 200
    (item,) = listing.json()["items"]
    assert item["id"] == queued.pk
    assert item["subject"] == "Spring newsletter"
    assert item["status"] == "sending"
    assert item["languages"] == ["en", "ca"]
    assert item["audience"] == {}
    assert item["archive_url"].endswith("/en/newsletters/spring-newsletter/")
    assert item["deliveries"] == {
        "queued": 1,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "skipped": 0,
        "total": 3,
        "done": 2,
    }

    detail = client.get(f"/api/v1/campaigns/{queued.pk}", headers=headers).json()
    assert detail["texts"]["ca"]["subject"] == "Butlletí de primavera"
    assert set(detail["texts"]) == {"en", "ca"}

    deliveries = client.get(f"/api/v1/campaigns/{queued.pk}/deliveries", headers=headers).json()
    assert deliveries["count"] == 3
    by_address = {row["to"]: row for row in deliveries["items"]}
    assert by_address["nuria@recerca.example"]["language"] == "ca"
    assert by_address["elena@universidad.example"]["status"] == "failed"
    assert by_address["elena@universidad.example"]["last_error"].startswith("550")

    failed = client.get(
        f"/api/v1/campaigns/{queued.pk}/deliveries", {"status": "failed"}, headers=headers
    ).json()
    assert [row["to"] for row in failed["items"]] == ["elena@universidad.example"]
    one = client.get(
        f"/api/v1/campaigns/{queued.pk}/deliveries",
        {"to": "KENJI@mission.example"},
        headers=headers,
    ).json()
    assert [row["status"] for row in one["items"]] == ["sent"]
    paged = client.get(
        f"/api/v1/campaigns/{queued.pk}/deliveries", {"page_size": 2, "page": 2}, headers=headers
    ).json()
    assert (paged["pages"], len(paged["items"]), paged["next"]) == (2, 1, None)


def test_only_staff_tokens_may_read_campaigns(client, cast, queued):
    for path in (
        "/api/v1/campaigns",
        f"/api/v1/campaigns/{queued.pk}",
        f"/api/v1/campaigns/{queued.pk}/deliveries",
    ):
        assert client.get(path).status_code == 401
        refused = client.get(path, headers=bearer(cast.consul))
        assert refused.status_code == 403
        assert refused.json()["detail"] == "This endpoint needs a staff token."


def test_bad_requests_are_answered_in_json(client, cast, queued):
    headers = bearer(cast.staff)
    unknown = client.get("/api/v1/campaigns/999999", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "No campaign has the id 999999."
    status = client.get("/api/v1/campaigns", {"status": "lost"}, headers=headers)
    assert status.status_code == 422
    assert status.json()["errors"][0]["field"] == "status"
    past_the_end = client.get("/api/v1/campaigns", {"page": 9}, headers=headers)
    assert past_the_end.status_code == 404
    assert client.post("/api/v1/campaigns", headers=headers).status_code == 405
