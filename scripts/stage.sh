#!/usr/bin/env bash
# Run one named stage of a make target, saying what it does and how long it took.
#   scripts/stage.sh "<name>" <command> [args...]
# Each stage's line is also appended to build/stages.log; `scripts/stage.sh --summary` prints the
# table of the run and clears it. A failing stage stops the run with its exit status.
set -uo pipefail
LOG=build/stages.log
if [[ "${1:-}" == "--summary" ]]; then
  [[ -f $LOG ]] || exit 0
  echo "== stages =="
  cat "$LOG"
  rm -f "$LOG"
  exit 0
fi
name=$1
shift
mkdir -p build
echo "==> $name: $*"
start=$(date +%s.%N)
"$@"
status=$?
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [[ $status -eq 0 ]]; then result=ok; else result="FAILED (exit $status)"; fi
printf '%-28s %8s s  %s\n' "$name" "$seconds" "$result" | tee -a "$LOG"
if [[ $status -ne 0 ]]; then
  "$0" --summary
  exit "$status"
fi
