"""The door's camera: Hugo holds Kenji's QR code (the one in his confirmation e-mail)
up to the phone, and Kenji is checked in.

Chromium plays a video file as its camera (--use-file-for-fake-video-capture); the
test writes that video from the same QR code the confirmation e-mail carries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import segno
from playwright.sync_api import BrowserType, expect

from diplohub.events.emails import registration_url
from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import build_programme
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.test_events import sign_in

WIDTH, HEIGHT = 640, 480


def write_y4m(text: str, path: Path) -> None:
    """A short greyscale Y4M video of the QR code of `text`, dark on white."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(border=4)]
    scale = min(WIDTH, HEIGHT) * 8 // 10 // len(matrix)
    size = scale * len(matrix)
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * WIDTH + left + x * scale
                    luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH // 2 * HEIGHT // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 10)


@pytest.fixture
def door(cast):
    visit = build_programme(cast).visit
    return Registration.objects.create(
        event=visit, person=cast.consul.person, organization=cast.japan, status="confirmed"
    )


def test_the_host_scans_the_qr_code_from_the_confirmation(
    browser_type: BrowserType, base: str, cast, door, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing")
    video = tmp_path / "qr.y4m"
    write_y4m(registration_url(door), video)
    browser = browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.grant_permissions(["camera"], origin=base)
        sign_in(context, base, cast.host)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/en/programme/{door.event.slug}/check-in/")
        page.get_by_role("button", name="Scan a QR code").click()
        expect(page.locator(".messages")).to_contain_text("Kenji Sato-Example is checked in.")
        expect(page.locator('#counts [data-count="arrived"]')).to_have_text("1")
        assert errors == []
    finally:
        browser.close()
    door.refresh_from_db()
    assert door.status == RegistrationStatus.ATTENDED
    assert door.checked_in_by_id == cast.host.pk
