"""A cold kernel cache: the other processor in use is compiled by a child, and waited for."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pixel_patrol_image import _compile_ahead as ahead


class FakeChild:
    def __init__(self) -> None:
        self.waited = False

    def wait(self) -> int:
        self.waited = True
        return 0


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, np.dtype]]:
    """A process state where nothing ran yet, every cache is empty, and starts are recorded."""
    started: list[tuple[str, np.dtype]] = []

    def start(name: str, dtype: np.dtype) -> Any:
        started.append((name, dtype))
        return FakeChild()

    monkeypatch.setattr(ahead, "_in_use", {})
    monkeypatch.setattr(ahead, "_children", {})
    monkeypatch.setattr(ahead, "_first_run_seen", False)
    monkeypatch.setattr(ahead, "_cache_is_empty", lambda name: True)
    monkeypatch.setattr(ahead, "_spare_core", lambda: True)
    monkeypatch.setattr(ahead, "_start", start)
    return started


def test_the_other_processor_in_use_is_compiled_ahead_and_waited_for(fresh: list[Any]) -> None:
    ahead.note_in_use("raster-compression")
    ahead.note_in_use("raster-quality")
    ahead.before_kernels("raster-compression", np.dtype("uint16"))
    assert fresh == [("raster-quality", np.dtype("uint16"))]
    _, child = ahead._children["raster-quality"]
    ahead.before_kernels("raster-quality", np.dtype("uint16"))
    assert isinstance(child, FakeChild) and child.waited
    ahead.before_kernels("raster-compression", np.dtype("uint16"))
    assert len(fresh) == 1


def test_a_processor_not_in_use_is_never_compiled(fresh: list[Any]) -> None:
    ahead.note_in_use("raster-quality")
    ahead.before_kernels("raster-quality", np.dtype("float32"))
    assert fresh == []


def test_a_forked_worker_neither_starts_nor_waits_for_its_parents_children(
    fresh: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # what a worker forked from a coordinator that noted both and started a child inherits
    monkeypatch.setattr(ahead, "_in_use", {"raster-compression": 1, "raster-quality": 1})
    child = FakeChild()
    ahead._children["raster-quality"] = (1, child)
    ahead.before_kernels("raster-compression", np.dtype("uint16"))
    ahead.before_kernels("raster-quality", np.dtype("uint16"))
    assert fresh == [] and not child.waited


def test_a_warm_cache_starts_nothing(fresh: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead, "_cache_is_empty", lambda name: False)
    ahead.note_in_use("raster-compression")
    ahead.note_in_use("raster-quality")
    ahead.before_kernels("raster-quality", np.dtype("uint16"))
    assert fresh == []


def test_the_cache_of_this_install_reads_as_filled() -> None:
    """The processors ran on uint16 in this test session's cache (or run now)."""
    ahead.compile_group("raster-compression", np.dtype("uint16"))
    ahead.compile_group("raster-quality", np.dtype("uint16"))
    assert not ahead._cache_is_empty("raster-compression")
    assert not ahead._cache_is_empty("raster-quality")
