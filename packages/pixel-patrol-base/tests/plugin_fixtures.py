"""Plugins for the contract tests, good and broken, and a fake third-party distribution.

The classes live at module level so worker processes can import them. ``install_distribution``
writes a ``*.dist-info`` folder with entry points onto ``sys.path``, so the registry finds the
plugins exactly as it finds an installed third-party package, with a distribution name and
version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, ImageContext, ImageHeader, LeafStack, Region
from pixel_patrol_base.errors import ImageReadError

F64 = pa.float64()


class NpyFile:
    def __init__(self, path: str, metadata: Mapping[str, Any]) -> None:
        try:
            self.array = np.load(path)
        except (OSError, ValueError) as exc:
            raise ImageReadError(path, f"not a .npy file: {exc}", "numpy") from exc
        order = {2: "YX", 3: "ZYX"}[self.array.ndim]
        self.images = [ImageHeader(order, tuple(self.array.shape), self.array.dtype.name, None, dict(metadata))]

    def read(self, index: int, region: Region | None = None) -> np.ndarray:
        return np.array(self.array[region] if region else self.array)

    def close(self) -> None:
        pass

    def __enter__(self) -> NpyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NpyLoader:
    """Reads .npy files; counts ``open`` calls so tests can prove no file was read."""

    NAME: ClassVar[str] = "npy-contract"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"npy"})
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset()
    COLUMNS: ClassVar[tuple[Column, ...]] = (Column("reader", pa.string(), "Reader."),)
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy",)
    opened: ClassVar[list[str]] = []
    METADATA: ClassVar[dict[str, Any]] = {"reader": "numpy"}

    def open(self, path: str) -> NpyFile:
        NpyLoader.opened.append(path)
        return NpyFile(path, self.METADATA)


class SloppyLoader(NpyLoader):
    """Puts a metadata key into headers that its COLUMNS do not declare."""

    NAME: ClassVar[str] = "npy-sloppy"
    METADATA: ClassVar[dict[str, Any]] = {"reader": "numpy", "colour": "red"}


class MeanProc:
    """A correct leaf processor: the mean of the finite pixels, weighted by their count."""

    NAME: ClassVar[str] = "acme-mean"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("acme_mean", F64, "Mean of the finite pixels.", Agg.MEAN, weight="acme_count"),
        Column("acme_count", pa.int64(), "Finite pixels.", Agg.SUM, internal=True),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        flat = stack.data.reshape(len(stack.data), -1).astype(np.float64)
        finite = np.isfinite(flat)
        count = finite.sum(axis=1)
        total = np.where(finite, flat, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / count, np.nan)
        return {"acme_mean": mean, "acme_count": count}


class ExtraColumn(MeanProc):
    NAME: ClassVar[str] = "acme-extra"

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        return {**super().run(stack), "acme_secret": np.zeros(len(stack.data))}


class WrongShape(MeanProc):
    NAME: ClassVar[str] = "acme-shape"

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        out = dict(super().run(stack))
        out["acme_mean"] = np.zeros((len(stack.data), 2))
        return out


class FloatCounts(MeanProc):
    NAME: ClassVar[str] = "acme-floatcount"

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        out = dict(super().run(stack))
        out["acme_count"] = out["acme_count"] + 0.5
        return out


class BadKind(MeanProc):
    NAME: ClassVar[str] = "acme-kind"
    KIND: ClassVar[str] = "pixel"  # type: ignore[assignment]


class Shade:
    """A memory processor (largest finite value); ``BROKEN`` selects how ``finish`` breaks the contract."""

    NAME: ClassVar[str] = "acme-shade"
    KIND: ClassVar[Literal["memory"]] = "memory"
    NEEDS_RANGE: ClassVar[bool] = False
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("acme_shade", F64, "Largest value.", Agg.FIRST),
        Column("acme_label", pa.string(), "A label.", Agg.FIRST),
    )
    BROKEN: ClassVar[str] = ""

    def run(self, chunk: np.ndarray, region: Region, image: ImageContext) -> float:
        finite = chunk[np.isfinite(chunk)]
        return float(finite.max()) if finite.size else -np.inf

    def finish(self, partials: Sequence[Any], image: ImageContext) -> Mapping[str, Any]:
        top = max(partials)
        out: dict[str, Any] = {"acme_shade": top if np.isfinite(top) else None, "acme_label": "ok"}
        if self.BROKEN == "missing":
            del out["acme_label"]
        elif self.BROKEN == "type":
            out["acme_label"] = [1, 2]
        elif self.BROKEN == "chunks":
            out["acme_shade"] = float(len(partials))
        return out


class ShadeMissing(Shade):
    NAME: ClassVar[str] = "acme-shade-missing"
    BROKEN: ClassVar[str] = "missing"


class ShadeType(Shade):
    NAME: ClassVar[str] = "acme-shade-type"
    BROKEN: ClassVar[str] = "type"


def install_distribution(
    site: Path, name: str, version: str, entry_points: Mapping[str, Mapping[str, str]],
    requires: Sequence[str] = (),
) -> Path:
    """Write ``<name>-<version>.dist-info`` under ``site`` (put ``site`` on ``sys.path``).

    ``entry_points`` maps a group to ``{plugin id: "module:Class"}``.
    """
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n")
    lines = []
    for group, items in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in items.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return info
