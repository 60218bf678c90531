#!/usr/bin/env bash
# .ci/slurm/start.sh — install (if needed) and start a REAL single-node SLURM
# cluster on this machine: munged + slurmctld + slurmd, all on localhost,
# no systemd needed. Idempotent: running it again while the cluster is up
# only re-checks it. Prints "slurm ready" and exits 0 when `sinfo` shows the
# node idle (or mixed/allocated = up but busy) and a tiny srun job ran;
# otherwise prints the reason plus log tails to stderr and exits non-zero.
#
# Needs root (apt-get, /etc/slurm/slurm.conf, slurmd). Tested on Debian 12
# (bookworm), Slurm 22.05.8, munge 0.5.15, 2 cores / 24 GiB, no cgroups used.
#
# Environment knobs (all optional):
#   SLURM_LOCAL_DIR      state/spool/log/pid dir           (default /tmp/local-slurm)
#   SLURM_INSTALL        auto | yes | no                   (default auto: apt-get only
#                        if a binary is missing; "no": fail if missing)
#   SLURM_PARTITION      partition name                    (default debug)
#   SLURM_NODE_CPUS      CPUs to advertise                 (default: nproc; may be larger
#                        than nproc to oversubscribe — SlurmdParameters=config_overrides)
#   SLURM_NODE_MEM_MB    RealMemory to advertise in MB     (default: `free -m` total)
#   SLURM_READY_TIMEOUT  seconds to wait for the node      (default 60)
#   SLURM_SMOKE_TEST     1 = run `srun hostname` as final check (default 1)
#   SLURMCTLD_PORT / SLURMD_PORT                           (default 6817 / 6818)
set -euo pipefail

BASE="${SLURM_LOCAL_DIR:-/tmp/local-slurm}"
INSTALL="${SLURM_INSTALL:-auto}"
PARTITION="${SLURM_PARTITION:-debug}"
TIMEOUT="${SLURM_READY_TIMEOUT:-60}"
SMOKE="${SLURM_SMOKE_TEST:-1}"
CTLD_PORT="${SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${SLURMD_PORT:-6818}"
CONF=/etc/slurm/slurm.conf          # default path: sinfo/sbatch/srun find it without SLURM_CONF

log()  { echo "[slurm-start] $*"; }
die()  {
  echo "[slurm-start] ERROR: $*" >&2
  for f in "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" /var/log/munge/munged.log; do
    if [ -f "$f" ]; then echo "----- tail $f -----" >&2; tail -n 15 "$f" >&2 || true; fi
  done
  exit 1
}

# pid_alive PIDFILE NAME -> 0 if the pid file names a live process whose comm is NAME
pid_alive() {
  local pf="$1" name="$2" pid
  [ -s "$pf" ] || return 1
  pid="$(tr -dc '0-9' < "$pf")"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

[ "$(id -u)" -eq 0 ] || die "must run as root (needs apt-get, /etc/slurm, slurmd)"

# ---------------------------------------------------------------- 1. install
need_install=0
for b in munged munge unmunge slurmctld slurmd sinfo srun sbatch squeue scancel scontrol; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || need_install=1
done
if [ "$need_install" = 1 ] || [ "$INSTALL" = yes ]; then
  [ "$INSTALL" = no ] && die "slurm/munge binaries missing and SLURM_INSTALL=no"
  log "installing slurmctld slurmd slurm-client munge with apt-get ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  # policy-rc.d / no systemd: the packages' services are installed but not started
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null \
    || die "apt-get install slurmctld slurmd slurm-client munge failed"
else
  log "slurm + munge already installed, skipping apt-get"
fi
export PATH="/usr/sbin:/sbin:$PATH"

# ------------------------------------------------------------------ 2. munge
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating /etc/munge/munge.key"
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --force --keyfile=/etc/munge/munge.key
  else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
fi
chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/log/munge; chmod 0600 /etc/munge/munge.key; chmod 0755 /run/munge
chmod 0711 /var/lib/munge

mkdir -p "$BASE"/{state,spool,log,run}
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munged already running"
else
  log "starting munged"
  # --force: start even if a stale socket/lock of a killed munged is left over
  runuser -u munge -- /usr/sbin/munged --force || die "munged failed to start"
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null 2>&1 || die "munge credential round-trip (munge -n | unmunge) fails"
  touch "$BASE/run/munged.started-by-us"      # so .ci/slurm/stop.sh stops it again
fi

# --------------------------------------------------------------- 3. config
NODE="$(hostname -s 2>/dev/null || hostname)"
[ -n "$NODE" ] || die "cannot determine hostname"
# slurmd finds its NodeName via the hostname; srun/slurmstepd resolve it, so make sure it resolves.
if ! getent hosts "$NODE" >/dev/null 2>&1; then
  log "hostname '$NODE' does not resolve: adding '127.0.0.1 $NODE' to /etc/hosts"
  echo "127.0.0.1 $NODE" >> /etc/hosts
fi
CPUS="${SLURM_NODE_CPUS:-$(nproc)}"
MEM="${SLURM_NODE_MEM_MB:-$(free -m | awk '/^Mem:/{print $2}')}"
DEFMEM=$(( MEM / CPUS / 4 )); [ "$DEFMEM" -gt 1024 ] && DEFMEM=1024; [ "$DEFMEM" -lt 100 ] && DEFMEM=100

NEWCONF="$(mktemp)"
cat > "$NEWCONF" <<EOF
# generated by .ci/slurm/start.sh — single-node test cluster, do not use in production
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# jobs without --mem would otherwise be given the WHOLE node's memory and run one at a time
DefMemPerCPU=$DEFMEM
# do not drain the node if it has fewer CPUs/memory than advertised (lets SLURM_NODE_CPUS oversubscribe)
SlurmdParameters=config_overrides
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=60
KillWait=5
Waittime=0
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

mkdir -p /etc/slurm
conf_changed=0
if ! cmp -s "$NEWCONF" "$CONF"; then
  conf_changed=1
  cp "$NEWCONF" "$CONF"; chmod 0644 "$CONF"
  log "wrote $CONF (node $NODE, CPUs=$CPUS, RealMemory=${MEM}M, partition $PARTITION)"
else
  log "$CONF unchanged"
fi
rm -f "$NEWCONF"

CTLD_PID="$BASE/run/slurmctld.pid"
SLURMD_PID="$BASE/run/slurmd.pid"

if [ "$conf_changed" = 1 ] && { pid_alive "$CTLD_PID" slurmctld || pid_alive "$SLURMD_PID" slurmd; }; then
  log "config changed while daemons run: restarting them"
  for pair in "$SLURMD_PID:slurmd" "$CTLD_PID:slurmctld"; do
    pf="${pair%%:*}"; nm="${pair##*:}"
    if pid_alive "$pf" "$nm"; then
      pid="$(cat "$pf")"; kill "$pid" || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
  done
fi

# ------------------------------------------------------------ 4. daemons
cold_start=0
if pid_alive "$CTLD_PID" slurmctld; then
  log "slurmctld already running (pid $(cat "$CTLD_PID"))"
else
  # Cold start if slurmd is not running either: every job in the saved state is then a ghost
  # (after an unclean stop they show as R and keep CPUs allocated) -> cancelled below.
  pid_alive "$SLURMD_PID" slurmd || cold_start=1
  log "starting slurmctld"
  # NB: not `slurmctld -c` (clear state): that restarts job IDs and a new job can then hit
  # "Job credential revoked" because slurmd remembers the old job with the same ID.
  /usr/sbin/slurmctld -f "$CONF" || die "slurmctld failed to start"
  sleep 0.5
  pid_alive "$CTLD_PID" slurmctld || { sleep 1; pid_alive "$CTLD_PID" slurmctld; } \
    || die "slurmctld exited right after start (port $CTLD_PORT in use? see its log)"
fi
for _ in $(seq 1 50); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.2; done
scontrol ping 2>/dev/null | grep -q 'is UP' || die "slurmctld does not answer 'scontrol ping'"

if pid_alive "$SLURMD_PID" slurmd; then
  log "slurmd already running (pid $(cat "$SLURMD_PID"))"
else
  log "starting slurmd"
  /usr/sbin/slurmd -f "$CONF" || die "slurmd failed to start"
  sleep 0.5
  pid_alive "$SLURMD_PID" slurmd || { sleep 1; pid_alive "$SLURMD_PID" slurmd; } \
    || die "slurmd exited right after start (port $SLURMD_PORT in use? see its log)"
fi

# ------------------------------------------------------------ 5. wait idle
state=""; resumed=0; t_end=$(( $(date +%s) + TIMEOUT ))
while [ "$(date +%s)" -lt "$t_end" ]; do
  state="$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1 || true)"
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    down*|drain*|fail*)
      if [ "$resumed" = 0 ]; then
        log "node state '$state' ($(sinfo -h -N -n "$NODE" -o '%E' 2>/dev/null)); trying State=RESUME"
        scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
        resumed=1
      fi ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated|completing) ;;
  *) die "node $NODE not idle after ${TIMEOUT}s (sinfo state: '${state:-none}')" ;;
esac

if [ "$cold_start" = 1 ]; then
  leftover="$(squeue -h -o '%i' 2>/dev/null | tr '\n' ' ')"
  if [ -n "${leftover// /}" ]; then
    log "cold start: cancelling jobs left in the saved state: $leftover"
    # shellcheck disable=SC2086
    scancel $leftover 2>/dev/null || true
    for _ in $(seq 1 60); do [ -z "$(squeue -h -o '%i' 2>/dev/null)" ] && break; sleep 0.5; done
  fi
fi

if [ "$SMOKE" = 1 ]; then
  out="$(cd /tmp && timeout 60 srun -N1 -n1 --mem=64 -t 1 -J smoke hostname 2>&1)" \
    || die "smoke test 'srun hostname' failed: $out"
  log "srun hostname -> $out"
fi

sinfo
echo "slurm ready"
