#!/usr/bin/env bash
# Usage: hack/with-progress.sh LABEL COMMAND...
# Runs COMMAND and prints a line every 20 seconds while it runs, so that a
# long cold build (kube-apiserver, frr-k8s) shows it is still working.
set -euo pipefail
label=$1
shift
start=$SECONDS
( while sleep 20; do echo "   ... still ${label} ($((SECONDS - start))s)"; done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
"$@"
echo "   ${label}: done in $((SECONDS - start))s"
