"""What a person sees while a scan runs: a live bar on a terminal, plain lines elsewhere.

Both displays are progress callbacks (``display(files_done, files_found, discovery_finished)``)
that only store the numbers; drawing happens on a timer, so a run that reports every file does
not pay for a redraw per file.

* On a terminal, a bar shows ``scanning`` with the files found so far while discovery runs,
  then ``processing`` with done/total, the rate, an ETA (once a few percent are done) and the
  number of errors. Log lines are printed above the bar.
* Without one (a pipe, a SLURM job log), a plain line every ``PIXEL_PATROL_PROGRESS_SECONDS``
  seconds (default 10): done/total, rate, ETA and errors, so a long run can be followed in a
  log file without control characters.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pixel_patrol_base.summary import RunSummary

LINE_SECONDS = 10.0
"""Default interval of the plain progress lines."""

ETA_FRACTION = 0.03
"""The ETA appears once this share of the files is done (earlier rates are start-up noise)."""

ETA_MIN_SECONDS = 1.0


def plural(n: int, word: str) -> str:
    """``1 error``, ``2 errors``, with thousands separators."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def clock(seconds: float) -> str:
    """``0:01:05`` style duration."""
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _State:
    """The latest numbers of a run, shared by the displays."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.done = 0
        self.found = 0
        self.finished = False
        self.summary: RunSummary | None = None
        self.first_done_at: float | None = None

    def __call__(self, done: int, found: int, finished: bool) -> None:
        if done and self.first_done_at is None:
            self.first_done_at = time.monotonic()
        self.done, self.found, self.finished = done, found, finished

    def watch(self, summary: RunSummary) -> None:
        """Read the error count from the run's summary as it grows."""
        self.summary = summary

    @property
    def errors(self) -> int:
        return int(self.summary.errors) if self.summary is not None else 0

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.t0, 1e-9)

    def eta(self) -> float | None:
        """Seconds left, once discovery is over and enough files are done to judge."""
        if not self.finished or not self.found or self.first_done_at is None:
            return None
        elapsed = time.monotonic() - self.first_done_at
        if self.done < ETA_FRACTION * self.found or elapsed < ETA_MIN_SECONDS:
            return None
        return (self.found - self.done) * elapsed / max(self.done, 1)

    def line(self) -> str:
        """One plain progress line."""
        errors = plural(self.errors, "error")
        rate = f"{self.rate():,.1f} files/s"
        if not self.finished:
            return f"{self.done:,} files done, {self.found:,} found so far (still scanning), {rate}, {errors}"
        pct = 100.0 * self.done / self.found if self.found else 100.0
        eta = self.eta()
        left = f", ETA {clock(eta)}" if eta is not None else ""
        return f"{self.done:,}/{self.found:,} files ({pct:.0f}%), {rate}{left}, {errors}"


class LineProgress(_State):
    """Prints :meth:`_State.line` at a steady interval from a background thread."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pixel-patrol-progress", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write(f"pixel-patrol: {self.line()}\n")
            self.stream.flush()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class BarProgress(_State):
    """Feeds a ``rich`` progress bar; rich redraws it on its own timer."""

    def __init__(self, bar: Any) -> None:
        super().__init__()
        self.bar = bar
        self.task = bar.add_task("scanning", total=None, count="0 found", rate="", eta="", errors="")

    def update(self) -> None:
        fields: dict[str, Any] = {"rate": f"{self.rate():,.1f} files/s" if self.done else ""}
        if self.finished:
            eta = self.eta()
            fields.update(description="processing", total=self.found, count=f"{self.done:,}/{self.found:,}",
                          eta=f"ETA {clock(eta)}" if eta is not None else "")
        else:
            fields.update(count=f"{self.done:,} done, {self.found:,} found")
        n = self.errors
        fields["errors"] = plural(n, "error") if n else ""
        self.bar.update(self.task, completed=self.done, **fields)

    def __call__(self, done: int, found: int, finished: bool) -> None:
        super().__call__(done, found, finished)
        self.update()


def line_interval() -> float:
    """Seconds between plain progress lines (``PIXEL_PATROL_PROGRESS_SECONDS``, default 10)."""
    raw = os.environ.get("PIXEL_PATROL_PROGRESS_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return LINE_SECONDS
    return value if value > 0 else LINE_SECONDS


@contextmanager
def display(stream: TextIO | None = None) -> Iterator[_State]:
    """The right display for ``stream`` (default stderr): a bar on a terminal, lines elsewhere."""
    stream = stream or sys.stderr
    if not stream.isatty():
        lines = LineProgress(stream, line_interval())
        lines.start()
        try:
            yield lines
        finally:
            lines.stop()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=stream)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[eta]}"),
        TextColumn("{task.fields[errors]}"),
    )
    with Progress(*columns, console=console, transient=True, refresh_per_second=5) as bar:
        yield BarProgress(bar)


__all__ = ["BarProgress", "LineProgress", "clock", "display", "plural"]
