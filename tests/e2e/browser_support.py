"""Playwright (sync API) with the system's Chromium for the UI tests: finding the browser, logging in
through the SimpleAuthManager's form, and a screenshot of every step (and of the page when a step fails).

No browser is downloaded: Playwright drives the Chromium of the machine (Debian: ``apt-get install
chromium``), found on PATH or named by ``CHROMIUM_PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
UI_TIMEOUT_MS = 60_000  # a 2-core machine running four Airflow components answers slowly at times


def chromium_path() -> str | None:
    """The Chromium executable: ``CHROMIUM_PATH``, else the first of CHROMIUM_NAMES on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def artifacts_root(fallback: Path) -> Path:
    """Where screenshots go: ``$ARTIFACTS_DIR/browser`` when set (CI keeps it), else `fallback`."""
    configured = os.environ.get("ARTIFACTS_DIR")
    root = Path(configured) / "browser" if configured else fallback
    root.mkdir(parents=True, exist_ok=True)
    return root


class Steps:
    """Numbered screenshots of one page: ``NN-<name>.png`` after each step; when a step raises, the page as
    it was (``NN-<name>-FAILED.png`` and ``.html``), and the exception names the directory."""

    def __init__(self, page: Page, directory: Path) -> None:
        self.page, self.directory, self.count = page, directory, 0
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.count += 1
        stem = f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}"
        try:
            yield
        except BaseException as exc:
            self._capture(f"{stem}-FAILED")
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(f"browser step {name!r} failed; screenshots in {self.directory}")
            raise
        self._capture(stem)

    def _capture(self, stem: str) -> None:
        try:
            self.page.screenshot(path=str(self.directory / f"{stem}.png"), full_page=True)
            (self.directory / f"{stem}.html").write_text(self.page.content())
        except Exception as exc:  # noqa: BLE001 - a lost screenshot must not hide the test's own outcome
            (self.directory / f"{stem}.error.txt").write_text(f"could not capture the page: {exc}\n")


def login(page: Page, base_url: str, user: str, password: str) -> None:
    """Log in through the SimpleAuthManager's form, as a person would: any page redirects to it first."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
