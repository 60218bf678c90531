"""Render the page: one HTML file with the template, stylesheet, script, plotly.js and the data.

Nothing is loaded from anywhere at view time: plotly.js (from the ``plotly`` package) and our
own script and style are inlined once, the data is a JSON block, thumbnails are data URIs.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import MissingDependencyError


def install_message() -> str:
    """What to run when the ``report`` extra is missing (our wheels, never the registry's)."""
    from pixel_patrol_base.plugins import install_hint

    return "the HTML report needs the 'report' extra of pixel-patrol-base: " + install_hint(
        "pixel-patrol-base[report]"
    )


def require() -> Any:
    """The jinja2 module, after checking that the ``report`` extra is installed."""
    try:
        import jinja2
        import plotly  # noqa: F401  (its package data holds plotly.js)
    except ImportError as exc:
        raise MissingDependencyError(install_message()) from exc
    return jinja2


def plotly_js() -> str:
    """The minified plotly.js bundle shipped inside the ``plotly`` Python package."""
    try:
        ref = resources.files("plotly") / "package_data" / "plotly.min.js"
        text = ref.read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, OSError) as exc:
        raise MissingDependencyError(install_message()) from exc
    return text.replace("</script", "<\\/script")


def _asset(name: str) -> str:
    return (resources.files("pixel_patrol_base.html") / "assets" / name).read_text(encoding="utf-8")


SCRIPT_PARTS = ("core", "findings", "overview", "pixels", "images", "page")
"""The page script, one file per concern, joined in this order inside one function scope."""


def page_script() -> str:
    """The page's own script: every part of ``assets/js`` in one strict-mode function."""
    parts = [_asset(f"js/{name}.js") for name in SCRIPT_PARTS]
    return "(function () {\n  'use strict';\n" + "\n".join(parts) + "}());\n"


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def json_for_script(value: Any) -> str:
    """JSON that is safe inside a <script> element (no '<', '>' or '&' characters)."""
    text = json.dumps(finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(data: dict[str, Any]) -> str:
    """The complete HTML page for ``data`` (see :func:`~pixel_patrol_base.html.build.page_data`)."""
    jinja2 = require()
    js = plotly_js()
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_asset("report.html.j2"))
    payload = {k: v for k, v in data.items() if k not in ("images", "timings")}
    page: str = template.render(
        title=data["header"]["title"],
        css=_asset("report.css"),
        plotly=js,
        script=page_script(),
        data_json=json_for_script(payload),
        images_b64=data["images"],
    )
    return page


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves nothing behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
