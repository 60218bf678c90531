"""Open pages in the system's headless Chromium (Debian's ``chromium``), never a downloaded browser.

In CI (``CI=true``) a missing browser fails the test; elsewhere the test is skipped with the
reason. Every request the page makes is recorded, and console errors and page errors are kept.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PIXEL_PATROL_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:")


def require_chromium() -> str:
    """The browser's path; fails in CI and skips elsewhere when it is missing."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if found:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            found = None
    if not found:
        reason = "Debian's chromium (apt-get install -y chromium) and the playwright package are needed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser test in CI: {reason}")
        pytest.skip(reason)
    return found


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests to anything but the local file, data and blob URLs."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


@contextmanager
def open_page(url: str, profile: Path, width: int = 1400, height: int = 900) -> Iterator[tuple[Any, PageLog]]:
    """A headless Chromium page at ``url`` (fresh profile folder) and its log."""
    from playwright.sync_api import sync_playwright

    exe = require_chromium()
    log = PageLog()
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=exe, headless=True, args=FLAGS,
            viewport={"width": width, "height": height}, accept_downloads=True,
        )
        try:
            ctx.on("request", lambda r: log.requests.append(r.url))
            page = ctx.new_page()
            page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.console_errors.append(f"page error: {e}"))
            page.goto(url)
            yield page, log
        finally:
            ctx.close()
