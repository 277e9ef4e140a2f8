#!/usr/bin/env bash
# frr-reloader.sh CONFIG PATHSPACE STATEDIR
#
# The e2e suite's stand-in for frr-k8s's reloader sidecar
# (frr-tools/reloader/frr-reloader.sh): on SIGHUP it checks the file the
# frr-k8s daemon wrote with `frr-reload.py --test` and, if that passes, applies
# it with `frr-reload.py --reload` to the FRR daemons of PATHSPACE. The result
# goes to STATEDIR/status ("<unix time> success|failure") and, on failure,
# STATEDIR/last-error. STATEDIR/reloads counts successful reloads,
# STATEDIR/requests the SIGHUPs handled (several in a row count once), and
# STATEDIR/ready appears once the SIGHUP trap is in place. STATEDIR/.status
# is status under the name frr-k8s reads.
# FRR_RELOAD_PY overrides the path of frr-reload.py (for the suite's own test).
#
# SIGHUP must not be ignored when this starts: bash cannot trap a signal that
# was ignored on entry (nohup, or any parent started under nohup, passes that
# on). The suite starts it through `env --default-signal=HUP`; started
# otherwise with SIGHUP ignored it exits at once with status 2.
set -u
config=$1
pathspace=$2
state=$3
reload=${FRR_RELOAD_PY:-/usr/lib/frr/frr-reload.py}

pending=0
requests=0
reloads=0
trap 'pending=1' HUP
trap 'exit 0' TERM INT

log() { echo "$(date +%T.%N) $*"; }

# For a signal ignored on entry, bash keeps it ignored and lists its trap as ''.
if [[ $(trap -p HUP) != *pending=1* ]]; then
	echo "frr-reloader.sh: SIGHUP is ignored in this process (started under nohup or by a process that ignores SIGHUP), so it could never hear frr-k8s's reload requests; start it with SIGHUP at its default disposition, e.g. env --default-signal=HUP $0 ..." >&2
	exit 2
fi

apply() {
	local now
	now=$(date +%s.%N)
	requests=$((requests + 1))
	echo "$requests" >"$state/requests"
	log "reload requested"
	if [[ ! -e $config ]]; then
		log "no $config yet: nothing to reload"
		return
	fi
	if ! python3 "$reload" --test --stdout -N "$pathspace" --rundir "$state" "$config" >"$state/last-test.log" 2>&1; then
		log "frr-reload.py --test failed"
		cp "$state/last-test.log" "$state/last-error"
		echo "$now failure" >"$state/status"
		return
	fi
	if ! python3 "$reload" --reload --stdout -N "$pathspace" --rundir "$state" "$config" >"$state/last-reload.log" 2>&1; then
		log "frr-reload.py --reload failed"
		cp "$state/last-reload.log" "$state/last-error"
		echo "$now failure" >"$state/status"
		return
	fi
	reloads=$((reloads + 1))
	echo "$reloads" >"$state/reloads"
	echo "$now success" >"$state/status"
	log "reload $reloads applied"
}

log "reloader pid $$ watching $config for pathspace $pathspace"
# frr-k8s reads the result as .status (and last-error) in the directory it
# shares with its reloader; the suite shows it this one.
ln -sfn status "$state/.status"
: >"$state/ready"
while :; do
	if ((pending)); then
		pending=0
		apply
	fi
	# A trapped SIGHUP interrupts wait at once.
	sleep 1 &
	wait $! 2>/dev/null
done
