"""Plugins are checked against their contracts when they are selected, before any file is read."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from plugin_env import npy_folder
from plugin_fixtures import MeanProc, NpyLoader, Shade
from typer.testing import CliRunner

from pixel_patrol_base import api, plugins
from pixel_patrol_base.cli import app
from pixel_patrol_base.contracts import Agg, Column, LeafStack
from pixel_patrol_base.errors import PluginError

ACME = "(from acme-plugins 1.0)"


def _variant(base: type, name: str, **attrs: Any) -> type:
    """A subclass of ``base`` with NAME ``name`` and some attributes replaced.

    It is made a global of this module so that it pickles by reference like any plugin class.
    """
    cls = type(f"V_{name.replace('-', '_')}", (base,), {"NAME": name, **attrs})
    globals()[cls.__name__] = cls
    return cls


def _cols(*cols: Column) -> tuple[Column, ...]:
    return cols


BROKEN_PROCESSORS = [
    ({"KIND": "pixel"}, "KIND must be 'leaf' or 'memory'"),
    ({"NEEDS_RANGE": None}, "NEEDS_RANGE must be declared"),
    ({"COLUMNS": ("acme_mean",)}, "COLUMNS must be a tuple of"),
    ({"COLUMNS": ()}, "declares no report column"),
    ({"COLUMNS": _cols(Column("file_name", pa.string(), "x"))}, "clashes with a column the core writes"),
    ({"COLUMNS": _cols(Column("X_size", pa.int64(), "x", Agg.MAX))}, "clashes with a column the core writes"),
    ({"COLUMNS": _cols(Column("_hidden", pa.int64(), "x", Agg.MAX))}, "only internal columns (never written) may start with '_'"),
    ({"COLUMNS": _cols(Column("a", pa.int64(), "x", Agg.MAX), Column("a", pa.int64(), "y", Agg.MAX))}, "declared twice"),
    ({"COLUMNS": _cols(Column("a", pa.float64(), "x", Agg.MEAN))}, "weight column None is not among"),
    ({"COLUMNS": _cols(Column("a", pa.float64(), "x", Agg.MEAN, weight="n"), Column("n", pa.list_(pa.int64(), 2), "n", Agg.HIST))}, "must hold one number per leaf"),
    ({"COLUMNS": _cols(Column("a", pa.float64(), "x", Agg.STD, weight="n"), Column("n", pa.int64(), "n", Agg.SUM))}, "mean column None is not among"),
    ({"COLUMNS": _cols(Column("a", pa.int64(), "x", Agg.MEAN, weight="a"))}, "must have a floating type"),
    ({"COLUMNS": _cols(Column("a", pa.string(), "x", Agg.MIN))}, "cannot be rolled up"),
    ({"COLUMNS": _cols(Column("a", pa.int64(), "x", Agg.HIST))}, "only hist columns are fixed-size lists"),
    ({"COLUMNS": _cols(Column("a", pa.list_(pa.int64(), 4), "x", Agg.SUM))}, "only hist columns are fixed-size lists"),
    ({"COLUMNS": _cols(Column("a", "float64", "x", Agg.MAX))}, "type must be a pyarrow DataType"),  # type: ignore[arg-type]
    ({"COLUMNS": _cols(Column("a", pa.float64(), " ", Agg.MAX))}, "needs a description"),
    ({"COLUMNS": _cols(Column("a", pa.float64(), "x", "max"))}, "agg must be"),  # type: ignore[arg-type]
    ({"LIBRARIES": "numpy"}, "LIBRARIES must be a tuple"),
    ({"run": lambda self: {}}, "run() must accept 1 positional argument"),
    ({"run": None}, "method run() is missing"),
    ({"__init__": lambda self, level: None}, "cannot be created without arguments"),
    ({"__init__": lambda self: setattr(self, "fn", lambda: 0)}, "instances must pickle"),
]


@pytest.fixture
def registered() -> Iterator[list[tuple[str, str]]]:
    """Plugins registered by a test, unregistered afterwards."""
    names: list[tuple[str, str]] = []
    yield names
    for group, name in names:
        plugins.unregister(group, name)


def _register(registered: list[tuple[str, str]], group: str, cls: type) -> None:
    plugins.register(group, cls)
    registered.append((group, cls.NAME))


@pytest.mark.parametrize(("attrs", "message"), BROKEN_PROCESSORS, ids=[m for _, m in BROKEN_PROCESSORS])
def test_selection_rejects_a_processor_that_breaks_its_contract(
    registered: list[tuple[str, str]], attrs: dict[str, Any], message: str
) -> None:
    cls = _variant(MeanProc, "bad-proc", **attrs)
    _register(registered, plugins.PROCESSOR_GROUP, cls)
    with pytest.raises(PluginError) as err:
        plugins.select_processors(include=["bad-proc"])
    text = str(err.value)
    assert text.startswith("processor 'bad-proc' (from registered in this process, ")
    assert message in text


def test_memory_processor_columns_are_first_and_public(registered: list[tuple[str, str]]) -> None:
    for i, col in enumerate([Column("s", pa.float64(), "x", Agg.MAX), Column("s", pa.float64(), "x", internal=True)]):
        cls = _variant(Shade, f"bad-shade{i}", COLUMNS=(*Shade.COLUMNS, col))
        _register(registered, plugins.PROCESSOR_GROUP, cls)
        with pytest.raises(PluginError, match="memory processor fills the obs_level-0 row only"):
            plugins.get_processor(f"bad-shade{i}")
    cls = _variant(Shade, "bad-finish", finish=lambda self, partials: {})
    _register(registered, plugins.PROCESSOR_GROUP, cls)
    with pytest.raises(PluginError, match=r"finish\(\) must accept 2 positional arguments"):
        plugins.get_processor("bad-finish")


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"SUPPORTED_EXTENSIONS": frozenset({".npy"})}, "lower case without the leading dot"),
        ({"SUPPORTED_EXTENSIONS": frozenset({"NPY"})}, "lower case without the leading dot"),
        ({"FOLDER_EXTENSIONS": ["zarr"]}, "FOLDER_EXTENSIONS must be a frozenset"),
        ({"COLUMNS": (Column("reader", pa.string(), "r", Agg.MAX),)}, "loader columns are per-image constants"),
        ({"COLUMNS": (Column("dtype", pa.string(), "r"),)}, "clashes with a column the core writes"),
        ({"open": lambda self: None}, "open() must accept 1 positional argument"),
        ({"is_dataset_dir": lambda self: True}, "is_dataset_dir() must accept 1"),
    ],
)
def test_selection_rejects_a_loader_that_breaks_its_contract(
    registered: list[tuple[str, str]], tmp_path: Path, attrs: dict[str, Any], message: str
) -> None:
    _register(registered, plugins.LOADER_GROUP, _variant(NpyLoader, "bad-loader", **attrs))
    with pytest.raises(PluginError, match="loader 'bad-loader'") as err:
        api.create_project("p", tmp_path, loader="bad-loader")
    assert message in str(err.value)


def test_the_error_names_the_distribution_of_an_installed_plugin(acme: Path) -> None:
    with pytest.raises(PluginError) as err:
        plugins.select_processors(include=["acme-kind"])
    assert str(err.value) == f"processor 'acme-kind' {ACME}: KIND must be 'leaf' or 'memory', got 'pixel'"
    assert str(plugins.origin(plugins.PROCESSOR_GROUP, "acme-kind")) == "acme-plugins 1.0"


def test_a_broken_processor_that_was_not_asked_for_is_skipped_with_a_warning(
    acme: Path, caplog: pytest.LogCaptureFixture
) -> None:
    names = [p.NAME for p in plugins.select_processors()]
    assert "acme-kind" not in names and {"acme-mean", "raster-basic"} <= set(names)
    warned = [r.getMessage() for r in caplog.records if "acme-kind" in r.getMessage()]
    assert warned and ACME in warned[0] and "--processors-exclude acme-kind" in warned[0]


def test_cli_stops_with_exit_2_before_any_file_is_read(acme: Path, tmp_path: Path) -> None:
    data = npy_folder(tmp_path / "data")
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(app, ["process", str(data), "-o", str(out), "--loader", "npy-contract",
                                   "--processors-include", "acme-kind"])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines == [f"pixel-patrol: error: processor 'acme-kind' {ACME}: KIND must be 'leaf' or 'memory', got 'pixel'"]
    assert NpyLoader.opened == [] and not out.exists()


def test_two_processors_declaring_one_column_are_named_with_their_distributions(
    acme: Path, registered: list[tuple[str, str]], tmp_path: Path
) -> None:
    _register(registered, plugins.PROCESSOR_GROUP, _variant(MeanProc, "copycat"))
    project = api.create_project("p", npy_folder(tmp_path / "d"), loader="npy-contract", output_path=tmp_path / "r.parquet")
    with pytest.raises(PluginError) as err:
        api.process_files(project, processors_include=["acme-mean", "copycat"])
    text = str(err.value)
    assert text.startswith(f"column 'acme_mean' is declared by processor 'acme-mean' {ACME} and by processor 'copycat' (from registered")
    assert NpyLoader.opened == []


def test_our_plugins_pass_the_selection_checks() -> None:
    for name in plugins.available_ids(plugins.PROCESSOR_GROUP):
        proc = plugins.get_processor(name)
        assert type(pickle.loads(pickle.dumps(proc))) is type(proc)


def test_a_good_processor_is_accepted_and_runs(registered: list[tuple[str, str]]) -> None:
    _register(registered, plugins.PROCESSOR_GROUP, _variant(MeanProc, "good-proc"))
    proc = plugins.get_processor("good-proc")
    out: Mapping[str, np.ndarray] = proc.run(LeafStack(np.ones((2, 3, 3)), None))  # type: ignore[arg-type, call-arg]
    assert out["acme_mean"].tolist() == [1.0, 1.0] and out["acme_count"].tolist() == [9, 9]
