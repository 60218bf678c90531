"""Make ``docs/report-demo.png``: the HTML report of the demo dataset, seen in headless Chromium.

Scans ``examples/demo`` with its two condition folders into a temporary folder, writes the
page with ``pixel-patrol report`` and photographs the top of it in Debian's ``chromium``.

Run: ``uv run python examples/report_screenshot.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "report-demo.png"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def main() -> None:
    """Scan, render, photograph."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cli = [sys.executable, "-m", "pixel_patrol_base"]
        subprocess.run([*cli, "process", str(HERE / "demo"), "-p", "control", "-p", "treated", "--loader", "bioio",
                        "--name", "demo", "-o", str(work / "demo.parquet"), "--max-workers", "1"], check=True)
        subprocess.run([*cli, "report", str(work / "demo.parquet"), "-o", str(work / "demo.html")], check=True)
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(str(work / "profile"), executable_path="/usr/bin/chromium",
                                                        headless=True, args=FLAGS, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            page.goto((work / "demo.html").as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            page.eval_on_selector("details.finding", "e => { if (e) e.open = true; }") if page.query_selector("details.finding") else None
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 1280, "height": 1100}, full_page=True)
            ctx.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
