#!/usr/bin/env bash
# A real single-node SLURM on this machine, for `make test-cluster` (tests/cluster/test_slurm.py).
#
#   tests/cluster/slurm_local.sh start    install (once) and start munged, slurmctld, slurmd; wait until idle
#   tests/cluster/slurm_local.sh stop     stop the daemons started here (by their pidfiles)
#   tests/cluster/slurm_local.sh status   print the daemons and `sinfo`; exit 0 only when SLURM is usable
#
# Needs root and Debian/Ubuntu packages (apt-get install slurmctld slurmd slurm-client munge; skipped
# when they are present). Works without systemd and without cgroups (proctrack/linuxproc). Everything
# listens on 127.0.0.1 only. Writes /etc/slurm/slurm.conf, but refuses to replace one it did not write,
# so it never touches a real cluster's configuration. One partition, `local`, holds this node with
# its real CPU count and a little less than its memory. No slurmdbd: use squeue for job status
# (profiles/slurm-local sets `slurm-status-command: squeue`; MinJobAge keeps finished jobs visible).
set -euo pipefail

CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
GRES_CONF=$(dirname "$CONF")/gres.conf
MARK="# nnmat tests/cluster/slurm_local.sh"
NAME=nnmat-local
STATE=/var/lib/$NAME       # slurmctld state, slurmd spool
LOGS=/var/log/$NAME        # slurmctld.log, slurmd.log
RUN=/run/$NAME             # pidfiles
MUNGE_RUN=/run/munge
MUNGE_PID=$MUNGE_RUN/munged.pid
PARTITION=local
FAKE_GPU=$STATE/fake-gpu0  # an empty file standing in for /dev/nvidia0 (SLURM drops a GPU without a File)
READY_TIMEOUT_S=${SLURM_LOCAL_READY_TIMEOUT_S:-60}
CONFIG_CHANGED=0

log() { echo "slurm_local: $*" >&2; }
die() { log "error: $*"; exit 1; }

alive() { # pidfile -> 0 when its process runs
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"; }

install_packages() {
    local missing=()
    for pkg in slurmctld slurmd slurm-client munge; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || die "packages missing (${missing[*]}) and no apt-get to install them"
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # policy-rc.d 101: the packages must not try to start services (there is no init system here).
        local policy=/usr/sbin/policy-rc.d created_policy=0
        if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1; fi
        local ok=1
        apt-get install -y -qq "${missing[@]}" >/dev/null || ok=0
        if ((created_policy)); then rm -f "$policy"; fi
        ((ok)) || die "apt-get install ${missing[*]} failed"
    fi
    for cmd in munged slurmctld slurmd sinfo sbatch squeue scontrol; do
        command -v "$cmd" >/dev/null || [[ -x /usr/sbin/$cmd ]] || die "$cmd not found after installation"
    done
}

write_config() {
    # Hardware as slurmd sees it; RealMemory a little below, so the node is never refused as too small.
    local hw cpus sockets cores threads mem host
    hw=$(slurmd -C | head -n1)
    field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$hw"; }
    cpus=$(field CPUs); sockets=$(field SocketsPerBoard); cores=$(field CoresPerSocket)
    threads=$(field ThreadsPerCore); mem=$(field RealMemory)
    [[ -n $cpus && -n $mem ]] || die "cannot read the hardware from 'slurmd -C': $hw"
    mem=$((mem * 95 / 100))
    host=$(hostname -s)

    local new
    new=$(mktemp)
    cat >"$new" <<EOF
$MARK: a single-node test cluster on localhost. Delete it with that script's daemons stopped.
ClusterName=$NAME
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
# Bind to the configured address (127.0.0.1), not to every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here (and no cgroup.conf): plain process tracking.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# No slurmdbd, so no sacct: Snakemake asks squeue, which must still list a job for a while after it ends.
MinJobAge=600
KillWait=5
MailProg=/bin/true
InactiveLimit=0
SlurmdTimeout=60
# One fake GPU (gres.conf points it at an empty regular file, not a device): SLURM schedules '--gpus=1'
# requests, so the test can check that Snakemake's 'gpu' resource becomes a GPU allocation. No CUDA here.
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    local gres
    gres=$(mktemp)
    printf '%s\nNodeName=%s Name=gpu File=%s\n' "$MARK: one fake GPU (see slurm.conf)." "$host" "$FAKE_GPU" >"$gres"
    CONFIG_CHANGED=0
    place "$new" "$CONF"
    place "$gres" "$GRES_CONF"
    ((CONFIG_CHANGED)) && log "wrote $CONF and $GRES_CONF (node $host: $cpus CPUs, ${mem} MB)"
    return 0
}

place() { # new-file target: install unless identical; never replace a file this script did not write
    if [[ -e $2 ]] && ! head -n1 "$2" | grep -qF "$MARK"; then
        rm -f "$1"
        die "$2 exists and was not written by this script: refusing to replace a real SLURM configuration"
    fi
    mkdir -p "$(dirname "$2")"
    if [[ -e $2 ]] && cmp -s "$1" "$2"; then rm -f "$1"; return 0; fi
    install -m 0644 "$1" "$2"
    rm -f "$1"
    CONFIG_CHANGED=1
}

start_munge() {
    install -d -o munge -g munge -m 0755 "$MUNGE_RUN"
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    if alive "$MUNGE_PID"; then return; fi
    runuser -u munge -- munged --pid-file="$MUNGE_PID"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.1; done
    die "munged did not start (see /var/log/munge/munged.log)"
}

wait_pidfile() { # daemon: it forks and writes its pidfile a moment after the command returns
    for _ in $(seq 100); do alive "$RUN/$1.pid" && return 0; sleep 0.1; done
    tail -n 5 "$LOGS/$1.log" >&2 || true
    die "$1 did not start (no live pid in $RUN/$1.pid after 10 s); see $LOGS/$1.log"
}

ready() { # the controller answers and the node takes jobs
    scontrol ping 2>/dev/null | grep -q "is UP" || return 1
    sinfo -h -p "$PARTITION" -o "%t" 2>/dev/null | grep -Eq '^(idle|mix|alloc)'
}

start() {
    need_root
    install_packages
    write_config
    if ((CONFIG_CHANGED)) && { alive "$RUN/slurmctld.pid" || alive "$RUN/slurmd.pid"; }; then
        log "configuration changed: restarting the daemons"
        stop
    fi
    install -d -m 0755 "$RUN" "$STATE"
    install -d -o slurm -g slurm -m 0755 "$LOGS" "$STATE/slurmctld"
    install -d -m 0755 "$STATE/slurmd"
    touch "$FAKE_GPU"
    start_munge
    if ! alive "$RUN/slurmctld.pid"; then
        # -c: start with no jobs from an earlier run. -i: ignore stale state errors.
        slurmctld -c -i || die "slurmctld failed to start; see $LOGS/slurmctld.log"
        wait_pidfile slurmctld
    fi
    if ! alive "$RUN/slurmd.pid"; then
        slurmd || die "slurmd failed to start; see $LOGS/slurmd.log"
        wait_pidfile slurmd
    fi
    local waited=0
    until ready; do
        local d
        for d in slurmctld slurmd; do
            alive "$RUN/$d.pid" && continue
            tail -n 5 "$LOGS/$d.log" >&2 || true
            die "$d exited during start-up; see $LOGS/$d.log"
        done
        if ((waited >= READY_TIMEOUT_S * 2)); then
            status || true
            die "SLURM not ready after ${READY_TIMEOUT_S}s; see $LOGS/slurmctld.log and $LOGS/slurmd.log"
        fi
        # A node left DOWN/DRAIN by an unclean stop is put back into service.
        if ((waited == 10)); then
            scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
        fi
        sleep 0.5; waited=$((waited + 1))
    done
    log "ready"
    sinfo
}

stop_pidfile() { # name pidfile
    local pid
    alive "$2" || { rm -f "$2"; return 0; }
    pid=$(cat "$2")
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$2"; return 0; }; sleep 0.1; done
    log "$1 (pid $pid) did not stop within 10 s: killing it"
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$2"
}

stop() {
    need_root
    # Jobs still running would be killed with slurmd anyway; cancel them so none is left behind.
    if ready 2>/dev/null; then scancel --partition "$PARTITION" --full 2>/dev/null || true; fi
    stop_pidfile slurmd "$RUN/slurmd.pid"
    stop_pidfile slurmctld "$RUN/slurmctld.pid"
    stop_pidfile munged "$MUNGE_PID"
    log "stopped"
}

status() {
    local rc=0 name pidfile
    for name in munged slurmctld slurmd; do
        case $name in munged) pidfile=$MUNGE_PID ;; *) pidfile=$RUN/$name.pid ;; esac
        if alive "$pidfile"; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: stopped"; rc=1; fi
    done
    if command -v sinfo >/dev/null && ((rc == 0)); then
        sinfo || rc=1
        ready || { echo "the node is not ready (not idle/mix/alloc)"; rc=1; }
    fi
    return $rc
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
