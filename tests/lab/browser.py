"""Open a page in a real headless Chromium (Debian's ``chromium``), driven by Playwright, never a downloaded browser.

``look_at(page)`` loads a local HTML file the way a person opens it, and reports what they would notice:
console errors, images that did not load, whether given elements are visible; it keeps a screenshot.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageView:
    console_errors: list[str] = field(default_factory=list)
    images: list[dict[str, object]] = field(default_factory=list)  # src (shortened), loaded, width, height
    visible: dict[str, bool] = field(default_factory=dict)  # CSS selector -> visible
    texts: dict[str, str] = field(default_factory=dict)  # CSS selector -> its inner text


def look_at(page_path: Path, chromium: str, screenshot: Path, selectors: list[str]) -> PageView:
    """Load ``page_path`` in headless Chromium (a fresh profile), wait until it is fully loaded, look."""
    from playwright.sync_api import sync_playwright

    view = PageView()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: view.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: view.console_errors.append(f"uncaught: {exc}"))
            page.on("requestfailed", lambda r: view.console_errors.append(f"request failed: {r.url[:80]}"))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            view.images = page.evaluate(
                """() => [...document.images].map(img => ({
                    src: img.src.slice(0, 40), loaded: img.complete && img.naturalWidth > 0,
                    width: img.naturalWidth, height: img.naturalHeight}))"""
            )
            for selector in selectors:
                located = page.locator(selector).first
                view.visible[selector] = located.is_visible()
                view.texts[selector] = located.inner_text() if view.visible[selector] else ""
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return view
