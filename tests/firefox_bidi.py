"""Open a page in Debian's headless Firefox ESR through WebDriver BiDi (no driver download).

Firefox speaks WebDriver BiDi itself when started with ``--remote-debugging-port``; this module
sends the handful of commands the report test needs over a WebSocket (tornado's client, already
installed with Dask): navigate, evaluate, screenshot, and collect console errors and requests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

FIREFOX = "/usr/bin/firefox-esr"
QUIET_PREFS = {
    "app.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "extensions.update.enabled": False,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bidi:
    """A minimal WebDriver BiDi client: one command at a time, events collected on the side."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.conn.write_message(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.conn.read_message())
            if msg.get("type") == "event":
                self.events.append(msg)
            elif msg.get("id") == self.next_id:
                if msg.get("type") == "error":
                    raise RuntimeError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return dict(msg["result"])


async def _visit(port: int, url: str, shot: Path, timeout: float) -> dict[str, Any]:
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(f"ws://127.0.0.1:{port}/session")
    b = Bidi(conn)
    await b.call("session.new", capabilities={})
    ctx = (await b.call("browsingContext.getTree"))["contexts"][0]["context"]
    await b.call("session.subscribe", events=["log.entryAdded", "network.beforeRequestSent"])
    t0 = time.perf_counter()
    await b.call("browsingContext.navigate", context=ctx, url=url, wait="complete")
    state: dict[str, Any] = {}
    while time.perf_counter() - t0 < timeout:
        res = await b.call("script.evaluate", expression="JSON.stringify({ready: document.body.dataset.ready || '', plots: document.querySelectorAll('.pp-plot').length, drawn: document.querySelectorAll('.pp-plot[data-drawn=\"1\"]').length, mosaic: document.querySelectorAll('.mosaic img').length, thumbs: Array.from(document.querySelectorAll('.mosaic img')).filter(i => i.complete && i.naturalWidth === 64).length, sections: document.querySelectorAll('section.pp-section').length})", target={"context": ctx}, awaitPromise=False)
        state = json.loads(res["result"]["value"])
        if state["ready"] == "1" and state["thumbs"] == state["mosaic"]:
            break
        await asyncio.sleep(0.2)
    state["seconds"] = time.perf_counter() - t0
    shot.write_bytes(base64.b64decode((await b.call("browsingContext.captureScreenshot", context=ctx))["data"]))
    state["errors"] = [e["params"].get("text") for e in b.events if e["method"] == "log.entryAdded" and e["params"].get("level") == "error"]
    state["requests"] = [e["params"]["request"]["url"] for e in b.events if e["method"] == "network.beforeRequestSent" and e["params"].get("context") == ctx]
    await b.call("session.end")
    conn.close()
    return state


def visit(url: str, profile: Path, shot: Path, timeout: float = 120.0) -> dict[str, Any]:
    """Open ``url`` in headless Firefox; returns readiness, counts, errors, requests, seconds."""
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text("".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in QUIET_PREFS.items()))
    port = _free_port()
    proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", str(profile), "--remote-debugging-port", str(port), "--window-size", "1400,900"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.time() + 60
        for line in proc.stderr:
            if re.search(r"WebDriver BiDi listening on ws://", line) or time.time() > deadline:
                break
        return asyncio.run(_visit(port, url, shot, timeout))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]  # a pipe left to the collector warns
