#!/usr/bin/env bash
# frr-reloader.sh CONFIG PATHSPACE STATEDIR
#
# The e2e suite's stand-in for frr-k8s's reloader sidecar
# (frr-tools/reloader/frr-reloader.sh): on SIGHUP it checks the file the
# frr-k8s daemon wrote with `frr-reload.py --test` and, if that passes, applies
# it with `frr-reload.py --reload` to the FRR daemons of PATHSPACE. The result
# goes to STATEDIR/status ("<unix time> success|failure") and, on failure,
# STATEDIR/last-error. STATEDIR/reloads counts successful reloads.
#
# Do not start it under nohup: an ignored SIGHUP cannot be trapped.
set -u
config=$1
pathspace=$2
state=$3
reload=/usr/lib/frr/frr-reload.py

pending=0
reloads=0
trap 'pending=1' HUP
trap 'exit 0' TERM INT

log() { echo "$(date +%T.%N) $*"; }

apply() {
	local now
	now=$(date +%s.%N)
	log "reload requested"
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
while :; do
	if ((pending)); then
		pending=0
		apply
	fi
	# A trapped SIGHUP interrupts wait at once.
	sleep 1 &
	wait $! 2>/dev/null
done
