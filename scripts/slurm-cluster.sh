#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm sweep test and for trying `sweep submit`
# by hand: Debian's slurm-wlm and munge, run as root without systemd. Everything it writes lives in
# one state folder; `stop` ends only the daemons that `start` started (by the pids it recorded).
#
#   scripts/slurm-cluster.sh start [DIR]   # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-cluster.sh stop [DIR]
#   scripts/slurm-cluster.sh status [DIR]
#
# DIR defaults to ${TMPDIR:-/tmp}/mnist-sym-wasm-slurm. Commands that talk to the cluster (sbatch,
# squeue, scontrol) need SLURM_CONF pointing at DIR/slurm.conf. SLURM_PORT (default 6917) is
# slurmctld's port and SLURM_PORT + 1 slurmd's, so two such clusters can run side by side.
set -euo pipefail

action="${1:-}"
dir="${2:-${TMPDIR:-/tmp}/mnist-sym-wasm-slurm}"
conf="$dir/slurm.conf"
port="${SLURM_PORT:-6917}"

die() { echo "slurm-cluster: $*" >&2; exit 1; }

need() {
  for c in munged mungekey slurmctld slurmd sbatch scontrol; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || die "$c not found (apt-get install -y slurm-wlm munge)"
  done
  [ "$(id -u)" = 0 ] || die 'must run as root (the daemons are started without systemd)'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  need
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  chmod 755 "$dir" # the munge user must reach its own folder inside
  # munge: a key of our own, its own socket, run as the munge user.
  mkdir -p "$dir/munge" && chown munge:munge "$dir/munge" && chmod 700 "$dir/munge"
  [ -f "$dir/munge/munge.key" ] || { mungekey --create --keyfile="$dir/munge/munge.key" && chown munge:munge "$dir/munge/munge.key"; }
  if ! alive "$dir/munged.pid"; then
    runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" --force
    for _ in $(seq 50); do [ -s "$dir/munge/munged.pid" ] && break; sleep 0.1; done
    cp "$dir/munge/munged.pid" "$dir/munged.pid"
  fi
  local host cpus mem
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)"
  cat >"$conf" <<CONF
ClusterName=msw
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$conf"
  alive "$dir/slurmctld.pid" || /usr/sbin/slurmctld -f "$conf" -i
  alive "$dir/slurmd.pid" || /usr/sbin/slurmd -f "$conf"
  for _ in $(seq 100); do
    if scontrol show node "$host" 2>/dev/null | grep -q 'State=IDLE'; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  die "the node did not come up; see $dir/log/"
}

stop() {
  for name in slurmd slurmctld munged; do
    if alive "$dir/$name.pid"; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      for _ in $(seq 50); do alive "$dir/$name.pid" || break; sleep 0.1; done
    fi
    rm -f "$dir/$name.pid"
  done
}

status() {
  for name in munged slurmctld slurmd; do
    if alive "$dir/$name.pid"; then echo "$name: running (pid $(cat "$dir/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status [DIR]" ;;
esac
