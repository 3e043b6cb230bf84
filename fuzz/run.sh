#!/usr/bin/env bash
# Short coverage-guided fuzzing run of the file readers and the binding layer (atheris).
#
#   bash fuzz/run.sh [SECONDS]      (default 40: half for each harness)
#
# Each harness starts from a copy of its seed corpus (fuzz/corpus/<name>/) in a scratch folder,
# so the repository is never written; a crash, a hang (>20 s) or an uncaught exception stops
# the run with a non-zero status and leaves the reproducer in the scratch folder it prints.
# Needs atheris (pip install ".[fuzz]"). Reproduce one input: python fuzz/fuzz_core.py <file>.
set -euo pipefail
seconds=${1:-40}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
status=0
for harness in tables core; do
    cp -r "$here/corpus/$harness" "$work/$harness"
    mkdir -p "$work/$harness-artifacts"
    echo "== fuzz $harness for $((seconds / 2)) s (artifacts: $work/$harness-artifacts)"
    if ! python "$here/fuzz_$harness.py" "$work/$harness" -max_total_time=$((seconds / 2)) -timeout=20 \
        -rss_limit_mb=4096 -artifact_prefix="$work/$harness-artifacts/" -print_final_stats=1 2>"$work/$harness.log"; then
        tail -n 40 "$work/$harness.log"
        status=1
    else
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done)" "$work/$harness.log" || true
    fi
done
if [ "$status" -eq 0 ]; then rm -rf "$work"; fi
exit "$status"
