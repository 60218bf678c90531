"""A plugin that breaks its contract during a run stops the run: one line, exit 2, no report.

Each case would otherwise end as the same error row on every image (or as silently dropped
values), with exit code 0 and a report that looks like a success.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from plugin_env import npy_folder
from typer.testing import CliRunner

from pixel_patrol_base.cli import app
from pixel_patrol_base.report import parts_dir

ACME = "(from acme-plugins 1.0)"

CASES = [
    ("acme-extra", "returned column(s) 'acme_secret' not in its COLUMNS"),
    ("acme-shape", "column 'acme_mean' has shape (1, 2), expected (1,)"),
    ("acme-floatcount", "column 'acme_count' holds float64 values; declared int64"),
    ("acme-shade-missing", "did not return declared column(s) 'acme_label'"),
    ("acme-shade-type", "column 'acme_label' value [1, 2] does not fit string"),
]


def _process(data: Path, out: Path, *args: str) -> tuple[int, list[str]]:
    res = CliRunner().invoke(app, ["process", str(data), "-o", str(out), *args])
    return res.exit_code, [ln for ln in res.output.splitlines() if ln.strip()]


@pytest.mark.parametrize(("proc", "problem"), CASES, ids=[c[0] for c in CASES])
def test_a_contract_violation_stops_the_run(acme: Path, tmp_path: Path, proc: str, problem: str) -> None:
    data = npy_folder(tmp_path / "data")
    out = tmp_path / "r.parquet"
    code, lines = _process(data, out, "--loader", "npy-contract", "--processors-include", proc, "--max-workers", "1")
    assert code == 2, lines
    assert lines == [
        f"pixel-patrol: error: processor '{proc}' {ACME} broke its contract: {problem}"
        f" (while processing {data / 'im0.npy'})"
    ]
    assert not out.exists() and not parts_dir(out).exists()


def test_an_older_report_is_left_as_it_was(acme: Path, tmp_path: Path) -> None:
    data = npy_folder(tmp_path / "data")
    out = tmp_path / "r.parquet"
    code, _ = _process(data, out, "--loader", "npy-contract", "--processors-include", "acme-mean")
    assert code == 0
    before = out.read_bytes()
    code, lines = _process(data, out, "--loader", "npy-contract", "--processors-include", "acme-extra", "--overwrite")
    assert code == 2 and "acme_secret" in lines[-1]
    assert out.read_bytes() == before
    assert pq.read_table(out).column("acme_mean").null_count == 0


def test_a_loader_with_undeclared_metadata_stops_the_run(acme: Path, tmp_path: Path) -> None:
    data = npy_folder(tmp_path / "data")
    code, lines = _process(data, tmp_path / "r.parquet", "--loader", "npy-sloppy", "--processors-include", "acme-mean")
    assert code == 2
    assert lines == [
        f"pixel-patrol: error: loader 'npy-sloppy' {ACME} broke its contract: metadata key(s)"
        f" 'colour' not in its COLUMNS (while processing {data / 'im0.npy'})"
    ]


# The local cluster's dashboard warns when another Dask process on the machine holds its port.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
@pytest.mark.parametrize("proc", ["acme-shape", "acme-shade-type"])
def test_the_run_stops_from_worker_processes(
    acme: Path, tmp_path: Path, proc: str
) -> None:
    """The violation crosses from Dask worker processes to the coordinator intact."""
    data = npy_folder(tmp_path / "data", n=4)
    out = tmp_path / "r.parquet"
    code, lines = _process(data, out, "--loader", "npy-contract", "--processors-include", proc,
                           "--max-workers", "2", "--mb-per-task", "0.0005")
    assert code == 2, lines
    assert lines[-1].startswith(f"pixel-patrol: error: processor '{proc}' {ACME} broke its contract")
    assert "(while processing " in lines[-1]
    assert not out.exists() and not parts_dir(out).exists()


@pytest.mark.parametrize("proc", ["acme-shape", "acme-shade-type"])
def test_the_run_stops_when_a_large_image_is_processed_chunk_by_chunk(
    acme: Path, tmp_path: Path, proc: str
) -> None:
    """Chunks run as their own tasks, and a memory processor's partials are merged in the
    coordinator: both paths stop the run too (each image here is larger than the budget)."""
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "big.npy", np.arange(3 * 12 * 14, dtype=np.uint16).reshape(3, 12, 14))
    out = tmp_path / "r.parquet"
    code, lines = _process(data, out, "--loader", "npy-contract", "--processors-include", proc,
                           "--max-workers", "1", "--mb-per-task", "0.0005")
    assert code == 2, lines
    assert lines[-1].startswith(f"pixel-patrol: error: processor '{proc}' {ACME} broke its contract")
    assert lines[-1].endswith(f"(while processing {data / 'big.npy'})")
    assert not out.exists() and not parts_dir(out).exists()


def test_a_processor_that_raises_on_an_image_is_still_an_error_row(acme: Path, tmp_path: Path) -> None:
    """The run-stopping rule is for contract violations only; a failure on one image is data."""
    data = npy_folder(tmp_path / "data", n=2)
    (data / "im1.npy").write_bytes(b"garbage")
    out = tmp_path / "r.parquet"
    code, _ = _process(data, out, "--loader", "npy-contract", "--processors-include", "acme-mean")
    assert code == 0
    rows = pq.read_table(out).to_pylist()
    assert [r["error_stage"] for r in rows if r["obs_level"] == 0] == [None, "header"]
