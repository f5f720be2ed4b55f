"""The interactive API docs work in a real browser under the site's CSP (default-src 'self')."""

from playwright.sync_api import Page, expect


def test_a_developer_browses_the_api_docs(page: Page, base: str, cast) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API")
    expect(page.get_by_text("/api/v1/organizations/{slug}")).to_be_visible()
    page.get_by_text("Public organisations").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".responses-wrapper .live-responses-table")).to_contain_text(
        "consulate-general-of-japan"
    )
    assert violations == []
    assert outside == []
