"""The body of ``pixel-patrol report``: write the HTML page of a Parquet report.

Bad input (unreadable report, unknown ``--group-by`` column, unwritable output, bad
expectations file, missing ``report`` extra) gives one line on stderr and exit code 2, and
nothing is written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pixel_patrol_base.errors import PixelPatrolError

EXIT_OK, EXIT_USAGE = 0, 2


def _fail(message: str) -> int:
    sys.stderr.write(f"pixel-patrol: error: {' '.join(message.split())}\n")
    return EXIT_USAGE


def preflight(output: str) -> None:
    """Check before a scan that the page can be written: the output path and the extra."""
    from pixel_patrol_base.html.render import require
    from pixel_patrol_base.html.write import check_output

    check_output(output)
    require()


def run_report(
    report: str,
    output: str,
    *,
    group_by: str = "path",
    expect: str | None = None,
    max_thumbnails: int = 256,
    title: str | None = None,
) -> int:
    """Write the page; returns the exit code (0, or 2 for bad input)."""
    from pixel_patrol_base import api

    t0 = time.perf_counter()
    try:
        out = api.report(report, output, group_by=group_by, expectations=expect, max_thumbnails=max_thumbnails, title=title)
    except PixelPatrolError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write '{output}': {exc.strerror or exc}")
    size = Path(out).stat().st_size / 1e6
    sys.stderr.write(f"pixel-patrol: report page {out} ({size:.1f} MB) in {time.perf_counter() - t0:.1f} s\n")
    return EXIT_OK
