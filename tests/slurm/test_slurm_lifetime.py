"""Workers retire before the walltime, their jobs are replaced, and no task is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from slurm_helpers import our_jobs

from pixel_patrol_slurm.cluster import new_job_name, start_cluster, worker_args
from pixel_patrol_slurm.keeper import JobKeeper
from pixel_patrol_slurm.launcher import shutdown
from pixel_patrol_slurm.options import ClusterOptions

pytestmark = pytest.mark.slurm


@pytest.mark.timeout(240)
def test_retired_job_is_replaced_and_tasks_complete(tmp_path: Path) -> None:
    from distributed import Client, as_completed

    # A one-minute walltime gives workers a lifetime of 27 s ± 3 s.
    options = ClusterOptions(
        jobs=1, cores=1, memory="1GB", walltime="1", interface="lo", log_dir=tmp_path / "logs"
    )
    assert worker_args(options) == ["--lifetime", "27s", "--lifetime-stagger", "3s"]
    name = new_job_name()
    cluster = start_cluster(options, name)
    keeper = JobKeeper(cluster, options.jobs)
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(2.0):
            keeper.tick()

    ticker = threading.Thread(target=keep, daemon=True)
    try:
        cluster.scale(jobs=1)
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=90)
            ticker.start()
            # 45 one-second tasks on one single-threaded worker outlast its lifetime.
            # Results are taken and released as they complete, as process's runner does:
            # a retiring worker with no peer cannot hand over results still held for us.
            # (time.sleep: the workers cannot import functions defined in this test module.)
            done = 0
            for future in as_completed(client.map(time.sleep, [1.0] * 45, pure=False)):
                future.result()
                future.release()  # nothing left to recompute once a result was taken
                done += 1
            assert done == 45
            keeper.remember()
            assert len(keeper.seen) >= 2, f"no replacement job was submitted: {keeper.seen}"
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(timeout=10)
        shutdown(cluster, keeper, name)
    assert our_jobs() == []
    # Retired, not killed: SLURM did not have to end the first job at its walltime.
    first = min(keeper.seen, key=int)
    log = (tmp_path / "logs" / f"{name}-{first}.err").read_text()
    assert "DUE TO TIME LIMIT" not in log
    assert "Closing worker gracefully" in log or "lifetime" in log.lower(), log[-2000:]
