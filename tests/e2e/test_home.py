from playwright.sync_api import Page, expect


def test_a_visitor_sees_the_hub_and_switches_to_catalan(page: Page, base: str, cast) -> None:
    page.goto(f"{base}/en/")
    expect(page.locator("h1")).to_contain_text("Science & Technology Diplomacy Hub")
    expect(page.locator(".figures")).to_contain_text("2")
    page.get_by_role("link", name="Català").click()
    expect(page.locator("html")).to_have_attribute("lang", "ca")
    assert page.url.endswith("/ca/")
