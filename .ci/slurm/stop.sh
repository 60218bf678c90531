#!/usr/bin/env bash
# .ci/slurm/stop.sh — stop what .ci/slurm/start.sh started: cancel all jobs,
# then stop slurmd, slurmctld and (only if .ci/slurm/start.sh started it) munged.
# Processes are stopped by the PIDs in their pid files only (checked against
# /proc/PID/comm), never by name matching. Idempotent: safe to run when nothing runs.
#   --purge   also delete the state/spool/log directory (SLURM_LOCAL_DIR)
set -uo pipefail

BASE="${SLURM_LOCAL_DIR:-/tmp/local-slurm}"
export PATH="/usr/sbin:/sbin:$PATH"
log() { echo "[slurm-stop] $*"; }

# stop_pidfile PIDFILE NAME
stop_pidfile() {
  local pf="$1" name="$2" pid
  if [ ! -s "$pf" ]; then log "$name: no pid file"; return 0; fi
  pid="$(tr -dc '0-9' < "$pf")"
  if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    log "$name: not running (stale pid file)"; rm -f "$pf"; return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "$name (pid $pid) ignored SIGTERM, sending SIGKILL"; kill -9 "$pid" 2>/dev/null || true; sleep 0.5; fi
  log "$name (pid $pid) stopped"
  rm -f "$pf"
}

# 1. cancel every job while the controller is still up, wait for them to leave the node
if command -v squeue >/dev/null 2>&1 && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  jobs="$(squeue -h -o '%i' 2>/dev/null | tr '\n' ' ')"
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ -z "$(squeue -h -t RUNNING,COMPLETING,PENDING -o '%i' 2>/dev/null)" ] && break; sleep 0.5
    done
  fi
fi

# 2. daemons, compute side first
stop_pidfile "$BASE/run/slurmd.pid" slurmd
stop_pidfile "$BASE/run/slurmctld.pid" slurmctld

# 3. munged only if we started it
if [ -f "$BASE/run/munged.started-by-us" ]; then
  stop_pidfile /run/munge/munged.pid munged
  rm -f "$BASE/run/munged.started-by-us"
else
  log "munged: not started by .ci/slurm/start.sh, leaving it alone"
fi

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$BASE"; log "removed $BASE"
fi
log "stopped"
