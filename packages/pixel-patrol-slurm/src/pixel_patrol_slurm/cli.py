"""``pixel-patrol-slurm [cluster options] -- <arguments of pixel-patrol process>``.

Thin layer: split the command line at ``--``, parse the cluster options with Typer, hand
over to :func:`pixel_patrol_slurm.launcher.run`, and turn every known failure into one line
on stderr with exit code 2 (bad arguments) or 1 (anything else).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.forwarding import SEPARATOR, split_argv
from pixel_patrol_slurm.options import (
    DEFAULT_CORES,
    DEFAULT_JOBS,
    DEFAULT_LOG_DIR,
    DEFAULT_MEMORY,
    DEFAULT_MIN_WORKERS,
    DEFAULT_PROCESSES,
    DEFAULT_WAIT_S,
    DEFAULT_WALLTIME,
    ClusterOptions,
)
from pixel_patrol_slurm.parsing import exit_classes, exit_code_of, message_of, usage_classes

PROG = "pixel-patrol-slurm"
HELP = (
    "Run `pixel-patrol process` on a Dask cluster made of SLURM jobs.\n\n"
    "Everything before `--` configures the cluster; everything after it is passed verbatim "
    "to `pixel-patrol process`, with `--scheduler` added. The jobs are cancelled when the "
    "run ends, fails or is interrupted."
)
USAGE_LINE = "[CLUSTER OPTIONS] -- BASE_DIR -o REPORT.parquet [PROCESS OPTIONS]"

app = typer.Typer(
    add_completion=False, help=HELP, context_settings={"help_option_names": ["-h", "--help"]}
)


@app.command(help=HELP, options_metavar=USAGE_LINE)
def launch(
    ctx: typer.Context,
    jobs: Annotated[int, typer.Option(help="Number of SLURM jobs.")] = DEFAULT_JOBS,
    cores: Annotated[int, typer.Option(help="CPU cores per job.")] = DEFAULT_CORES,
    memory: Annotated[str, typer.Option(help="Memory per job, e.g. 16GB.")] = DEFAULT_MEMORY,
    processes: Annotated[
        int, typer.Option(help="Dask worker processes per job (they share its cores/memory).")
    ] = DEFAULT_PROCESSES,
    partition: Annotated[
        str | None, typer.Option(help="SLURM partition (default: the cluster's default).")
    ] = None,
    walltime: Annotated[
        str, typer.Option(help="Time limit per job (SLURM format, e.g. 02:00:00).")
    ] = DEFAULT_WALLTIME,
    account: Annotated[str | None, typer.Option(help="SLURM account to charge.")] = None,
    qos: Annotated[str | None, typer.Option(help="SLURM quality of service.")] = None,
    job_extra: Annotated[
        list[str] | None,
        typer.Option(help="Extra #SBATCH directive, e.g. --job-extra=--gres=gpu:1 (repeatable)."),
    ] = None,
    prologue: Annotated[
        list[str] | None,
        typer.Option(help="Shell line run before the worker, e.g. 'module load foo' (repeatable)."),
    ] = None,
    interface: Annotated[
        str | None, typer.Option(help="Network interface for scheduler and workers, e.g. ib0.")
    ] = None,
    log_dir: Annotated[
        Path, typer.Option(help="Directory for the jobs' stdout/stderr files.")
    ] = DEFAULT_LOG_DIR,
    min_workers: Annotated[
        int, typer.Option(help="Workers needed before process starts.")
    ] = DEFAULT_MIN_WORKERS,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for --min-workers before giving up.")
    ] = DEFAULT_WAIT_S,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the job script and the command; submit nothing."),
    ] = False,
) -> None:
    options = ClusterOptions(
        jobs=jobs,
        cores=cores,
        memory=memory,
        processes=processes,
        partition=partition,
        walltime=walltime,
        account=account,
        qos=qos,
        job_extra=tuple(job_extra or ()),
        prologue=tuple(prologue or ()),
        interface=interface,
        log_dir=log_dir,
        min_workers=min_workers,
        wait=wait,
        dry_run=dry_run,
    )
    from pixel_patrol_slurm.launcher import Terminated, run

    # Converted here, not left to the parser, which would swallow them into an exit code.
    try:
        code = run(options, ctx.obj)
    except KeyboardInterrupt:
        raise LaunchError("interrupted; the jobs were cancelled", 130) from None
    except Terminated as exc:
        raise LaunchError(f"stopped by {exc}; the jobs were cancelled", 128 + exc.signum) from None
    ctx.exit(code)


def _wants_help(argv: Sequence[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv)


def _error(message: str, code: int) -> int:
    if message:
        print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def run_cli(argv: Sequence[str]) -> int:
    """Run the command for ``argv`` (without the program name) and return the exit code."""
    command = typer.main.get_command(app)
    if SEPARATOR not in argv and _wants_help(argv):
        return int(command.main(list(argv), prog_name=PROG, standalone_mode=False) or 0)
    try:
        cluster_args, forwarded = split_argv(argv)
        result = command.main(cluster_args, prog_name=PROG, obj=forwarded, standalone_mode=False)
        return int(result or 0)
    except LaunchError as exc:
        return _error(exc.message, exc.exit_code)
    except exit_classes() as exc:
        return exit_code_of(exc, 0)
    except usage_classes() as exc:
        return _error(message_of(exc), exit_code_of(exc, USAGE))


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_cli(sys.argv[1:]))


__all__ = ["app", "main"]
