#!/usr/bin/env bash
# Re-score every shipped store with this rgbench's scorer, without training anything: each store is
# scored with the suite it records — the criteria committed before its run, never edited since (a new
# criterion, a purpose or a family included, is a new suite version with its own run) — each verdict
# that differs from the report in results/archive/scorer-v1/ (the reports of the scorer before
# calibrated intervals and multiplicity control) is shown beside it, and the leaderboards are rebuilt
# as scripts/regenerate-results.sh builds them.
#
#   scripts/rescore-results.sh        # a few minutes on 2 CPU cores; a store still being computed
#                                     # (rgbench verify fails: cases missing) is left unscored
set -euo pipefail
cd "$(dirname "$0")/.."

previous="results/archive/scorer-v1"
score() {  # STORE BASE [OLD NAME]: BASE.score.json and BASE.score.md
    local store="$1" base="$2" old="${previous}/${3:-$(basename "$2")}.score.json"
    local extra=()
    if ! rgbench verify "$store" > /dev/null 2>&1; then  # a store still being computed has no report yet
        echo "${base}: not scored, the store is not whole (rgbench verify ${store} --partial)"
        return
    fi
    [ -e "$old" ] && extra=(--previous "$old")
    rgbench score "$store" "${extra[@]}" --format json > "${base}.score.json"
    rgbench score "$store" "${extra[@]}" --format markdown > "${base}.score.md"
    # its counts, and the sum of its cases' wall times (README's wall for a store computed over several sessions)
    echo "${base}: $(python -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["counts"], "diagnostics", d["diagnostic_counts"], "cases wall", round(sum(c.get("wall_seconds") or 0 for c in d["cases"].values())), "s")' "${base}.score.json")"
}
score results/smoke.zarr results/smoke
score results/rg-paper-v3.zarr results/rg-paper-v3
score results/architectures-v3.zarr results/architectures-v3
score results/rg-paper-v2.zarr results/rg-paper-v2
score results/noise.zarr results/noise
score results/controls-v2.zarr results/controls-v2
score results/archive/controls-v1.zarr results/archive/controls-v1 controls
score results/architectures-v2.zarr results/architectures-v2
score results/architectures-full.zarr results/architectures-full
score results/theory.zarr results/theory
score results/archive/rg-paper-v1.zarr results/archive/rg-paper-v1
score results/archive/architectures-v1.zarr results/archive/architectures-v1 architectures

rgbench leaderboard results/rg-paper-v3.zarr results/architectures-v3.zarr --format markdown \
    --out results/LEADERBOARD.md --figures-from short-xi mixer-short-xi windowed-short-xi transformer-short-xi \
    --heatmap results/LEADERBOARD.png --html results/LEADERBOARD.html  # a family still computing: PEND
rgbench leaderboard results/rg-paper-v2.zarr results/architectures-full.zarr results/architectures-v2.zarr --format markdown \
    --out results/archive/LEADERBOARD-v2.md --figures-from short-xi mixer-short-xi windowed-short-xi transformer-short-xi
rgbench leaderboard results/archive/rg-paper-v1.zarr results/archive/controls-v1.zarr results/archive/architectures-v1.zarr --format markdown \
    --out results/archive/LEADERBOARD-v1.md
