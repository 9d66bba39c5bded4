"""The simulator in a real browser (headless Chromium): dial, read, answer, and see the SMS arrive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path("/tmp/simulator.png")
NON_MEMBER = "+256700000009"


@pytest.fixture
def page(live_server: str) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium) for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1180, "height": 940})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{live_server}/simulator")
            yield page
            context.close()
        finally:
            browser.close()


def _screen(page) -> str:  # type: ignore[no-untyped-def]
    """The phone's screen once the answer is in (not while the USSD code is running)."""
    from playwright.sync_api import expect

    expect(page.locator("#screen")).not_to_have_attribute("data-mode", "busy")
    return page.locator("#display").inner_text()


def _press(page, keys: str) -> None:  # type: ignore[no-untyped-def]
    for key in keys:
        page.locator(f'.keypad button[data-key="{key}"]').click()


def _answer(page, value: str) -> str:  # type: ignore[no-untyped-def]
    """Type ``value`` on the keypad and press Send, as a user with a mouse would."""
    from playwright.sync_api import expect

    expect(page.locator("#screen")).to_have_attribute("data-mode", "con")
    _press(page, value)
    page.get_by_role("button", name="Send or OK (left soft key)").click()
    return _screen(page)


def test_a_rights_topic_asked_for_on_the_phone_arrives_in_its_inbox(page, settings):
    from playwright.sync_api import expect

    page.get_by_role("radio", name=re.compile("not a member")).check()
    expect(page.locator("#inbox-number")).to_have_text("+256 700 000 009")
    expect(page.locator("#inbox-empty")).to_be_visible()
    expect(page.locator("#display")).to_contain_text(f"Dial {settings.service_code}")

    _press(page, settings.service_code)
    expect(page.locator("#entry-text")).to_have_text(settings.service_code)
    page.get_by_role("button", name="Call (green key)").click()
    assert "Choose language" in _screen(page)
    assert "1 English" in page.locator("#display").inner_text()

    main_menu = _answer(page, "1")
    assert "3 My rights" in main_menu
    # The laptop's keyboard works too: a wrong digit, Backspace, the right one, Enter.
    page.keyboard.type("9")
    page.keyboard.press("Backspace")
    page.keyboard.type("3")
    expect(page.locator("#entry-text")).to_have_text("3")
    page.keyboard.press("Enter")
    rights = _screen(page)
    assert "5 Where to get help" in rights

    area = _answer(page, "5")
    title = re.search(r"^1 (.+)$", area, re.MULTILINE).group(1)  # type: ignore[union-attr]
    screen = _answer(page, "1")
    pages = 0
    while "1 Send me this by SMS" not in screen:
        assert "98 More" in screen, screen
        screen = _answer(page, "98")
        pages += 1
    assert pages >= 1  # a topic is longer than one screen

    end = _answer(page, "1")
    expect(page.locator("#screen")).to_have_attribute("data-mode", "end")
    assert "SMS" in end

    sms = page.locator("#inbox li").first
    expect(page.locator("#inbox")).to_contain_text(title, timeout=20_000)
    expect(sms.locator(".sms-parts")).to_have_text(re.compile(r"^\d+ parts$"))
    expect(sms.locator("time")).to_have_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(page.locator("#inbox-empty")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.keyboard.press("Escape")
    expect(page.locator("#screen")).to_have_attribute("data-mode", "idle")


def test_switching_numbers_ends_the_session_and_shows_the_other_inbox(page, settings):
    from playwright.sync_api import expect

    page.get_by_role("radio", name=re.compile("not a member")).check()
    page.keyboard.press("Enter")  # Enter on an empty idle screen dials the service code
    assert "Choose language" in _screen(page)
    expect(page.locator("#screen")).to_have_attribute("data-mode", "con")

    page.get_by_role("radio", name=re.compile("Grace")).check()
    expect(page.locator("#screen")).to_have_attribute("data-mode", "idle")
    expect(page.locator("#display")).to_contain_text("Number changed")
    expect(page.locator("#inbox-number")).to_have_text("+256 700 000 002")

    page.get_by_label("Or use another number").fill("12345")
    page.get_by_role("button", name="Use").click()
    expect(page.locator("#other-error")).to_contain_text("not a Ugandan phone number")
    expect(page.locator("#inbox-number")).to_have_text("+256 700 000 002")

    page.get_by_label("Or use another number").fill("0772 123456")
    page.get_by_role("button", name="Use").click()
    expect(page.locator("#inbox-number")).to_have_text("+256 772 123 456")
    expect(page.get_by_role("radio", name=re.compile("772 123 456"))).to_be_checked()
    expect(page.locator("#other-error")).to_be_empty()

    # A code other than the service's gets the phone network's answer.
    _press(page, "*123#")
    page.get_by_role("button", name="Call (green key)").click()
    expect(page.locator("#screen")).to_have_attribute("data-mode", "end")
    expect(page.locator("#display")).to_contain_text("invalid MMI code")
