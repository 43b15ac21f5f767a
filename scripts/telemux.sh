#!/bin/sh
# Runs the Telemux CLI with the Node flags it is benchmarked with: what `npm start` and the
# container image run. Arguments go to the CLI (`scripts/telemux.sh serve --config …`).
#
# - --initial-old-space-size=128: see README, "The Node heap".
# - --single-threaded-gc when the process may run on one CPU only: its affinity mask allows one
#   (taskset, a cpuset, Kubernetes' static CPU manager). V8's concurrent-marking threads then take
#   the event loop's only core for tens of milliseconds at a mark-compact; marking on the main
#   thread in small steps gave shorter longest event-loop gaps at the same CPU per Report
#   (BENCHMARKS.md, rounds 7 and 8). Not for a CPU quota (a Kubernetes CPU limit without pinning):
#   under a one-CPU CFS quota it made no difference measured. V8 takes the flag only on the
#   command line, which is why this is a script.
#
# Environment: TELEMUX_SINGLE_THREADED_GC=auto (default), 1 or 0 overrides that choice;
# TELEMUX_NODE_FLAGS adds Node flags; NODE names the node binary (default: node on PATH).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

# CPUs this process may run on. nproc reads the affinity mask, but answers OMP_NUM_THREADS
# instead when that is set, so it is unset for the question.
allowed=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 0)

case "${TELEMUX_SINGLE_THREADED_GC:-auto}" in
  1) single=1 ;;
  0) single=0 ;;
  auto) if [ "$allowed" -eq 1 ]; then single=1; else single=0; fi ;;
  *)
    echo "telemux: TELEMUX_SINGLE_THREADED_GC must be auto, 1 or 0, not '${TELEMUX_SINGLE_THREADED_GC}'" >&2
    exit 2
    ;;
esac

flags="--initial-old-space-size=128"
if [ "$single" -eq 1 ]; then flags="$flags --single-threaded-gc"; fi
# shellcheck disable=SC2086 # the flag lists are meant to split into words
exec "${NODE:-node}" $flags ${TELEMUX_NODE_FLAGS:-} "$root/dist/src/main.js" "$@"
