#!/usr/bin/env bash
# Re-score every shipped store with this rgbench's scorer, without training anything: each store is
# scored with its suite file (so the file's purposes and families count; the cases' hashes must match
# the store's), each verdict that differs from the report in results/archive/scorer-v1/ (the reports
# of the scorer before calibrated intervals and multiplicity control) is shown beside it, and the
# leaderboards are rebuilt as scripts/regenerate-results.sh builds them.
#
#   scripts/rescore-results.sh        # about a minute on 2 CPU cores
set -euo pipefail
cd "$(dirname "$0")/.."

previous="results/archive/scorer-v1"
score() {  # SUITE_FILE STORE BASE: BASE.score.json and BASE.score.md
    local file="$1" store="$2" base="$3" old="${previous}/$(basename "$3").score.json"
    local extra=()
    [ -e "$old" ] && extra=(--previous "$old")
    rgbench score "$store" --suite "$file" "${extra[@]}" --format json > "${base}.score.json"
    rgbench score "$store" --suite "$file" "${extra[@]}" --format markdown > "${base}.score.md"
    echo "${base}: $(python -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["counts"], "diagnostics", d["diagnostic_counts"])' "${base}.score.json")"
}
score suites/smoke.yaml results/smoke.zarr results/smoke
score suites/rg-paper.yaml results/rg-paper-v2.zarr results/rg-paper-v2
score suites/noise.yaml results/noise.zarr results/noise
score suites/controls.yaml results/controls.zarr results/controls
score suites/architectures.yaml results/architectures.zarr results/architectures
score suites/architectures-full.yaml results/architectures-full.zarr results/architectures-full
score suites/theory.yaml results/theory.zarr results/theory
score suites/archive/rg-paper-v1.yaml results/archive/rg-paper-v1.zarr results/archive/rg-paper-v1

rgbench leaderboard results/rg-paper-v2.zarr results/architectures-full.zarr --format markdown --out results/LEADERBOARD.md \
    --figures-from short-xi mixer-short-xi windowed-short-xi
rgbench leaderboard results/archive/rg-paper-v1.zarr results/controls.zarr results/architectures.zarr --format markdown \
    --out results/archive/LEADERBOARD-v1.md
