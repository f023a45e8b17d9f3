#!/usr/bin/env bash
# Regenerate every shipped result from scratch: the standard suites' stores, their score reports,
# the leaderboards and the figures under results/figures/ (git keeps each suite's overview.png; the
# per-case PNGs and report.html are regenerated locally).
#
#   scripts/regenerate-results.sh                  # every shipped suite (about 20 hours on 2 CPU cores,
#                                                  # architectures-v3 about 17 of them)
#   scripts/regenerate-results.sh rg-paper noise   # only these suite files (suites/<name>.yaml); the
#                                                  # leaderboards are rebuilt from whatever stores exist
#   scripts/regenerate-results.sh archive/rg-paper-v1   # an archived version, into results/archive/
#
# A suite file's store is results/<suite name>.zarr (suites/rg-paper.yaml holds `suite: rg-paper-v3`:
# results/rg-paper-v3.zarr); an archived file's is results/archive/<file name>.zarr, except version 2's
# (archive/rg-paper-v2, archive/architectures-full, archive/architectures-v2), whose stores stay at
# results/<suite name>.zarr, where version 3's pre-registered suites and scripts/margins_v3.py name
# them. Scores go beside the store as <store>.score.json / .score.md.
#
# Every suite runs with its seeds split over DEVICES CPU devices (default 2, `rgbench run --devices`):
# the number is fixed here rather than taken from the machine's core count, because it decides the
# shape of the compiled programs and so the float rounding of the results.
#
# Each suite's store is deleted first, so nothing is reused from an earlier run; interrupting
# and rerunning with the same arguments resumes the suite that was running (its finished cases are
# kept); suites that had finished are run again from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q -e .

devices="${DEVICES:-2}"
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
    suites=(smoke rg-paper noise controls theory archive/rg-paper-v2 archive/architectures-full archive/architectures-v2
        archive/rg-paper-v1 archive/controls-v1 archive/architectures-v1 architectures)
fi

suite_name() {  # the `suite:` identifier of a suite file
    python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["suite"])' "$1"
}

mkdir -p results/figures results/archive
for suite in "${suites[@]}"; do
    file="suites/${suite}.yaml"
    if [[ "$suite" == archive/* ]] && [[ "$suite" != archive/*-v2 ]] && [[ "$suite" != archive/architectures-full ]]; then
        base="results/${suite}"
        figures=""
    else
        name="$(suite_name "$file")"
        base="results/${name}"
        figures="results/figures/${name}"
    fi
    store="${base}.zarr"
    marker="${base}.regenerating"
    # A fresh start unless an interrupted regeneration of this suite is being resumed.
    if [ ! -e "$marker" ]; then
        rm -rf "$store"
        touch "$marker"
    fi
    start=$SECONDS
    rgbench run "$file" --store "$store" --devices "$devices"
    echo "${suite}: $((SECONDS - start)) s wall"
    rgbench score "$store" --format json > "${base}.score.json"
    rgbench score "$store" --format markdown > "${base}.score.md"
    if [ -n "$figures" ] && [ "$suite" != theory ] && [ "$suite" != smoke ]; then  # nothing trained in theory; smoke is a toy
        rm -rf "$figures"
        rgbench plot "$store" --out "$figures"
    fi
    rm -f "$marker"
done

leaderboard() {  # OUT "STORE..." [OPTION...]: the leaderboard of those stores that exist
    local out="$1"
    local stores=()
    for s in $2; do
        [ -d "$s" ] && stores+=("$s")
    done
    shift 2
    if [ ${#stores[@]} -gt 0 ]; then
        rgbench leaderboard "${stores[@]}" --format markdown --out "$out" "$@"
    fi
}
# v3, the board (claims of a case not yet computed show PEND); v2 beside it in the archive. Each row's
# figures from its ξ = 1.2 case (the i.i.d., shuffled and probe-size cases would weigh in otherwise).
leaderboard results/LEADERBOARD.md "results/rg-paper-v3.zarr results/architectures-v3.zarr" \
    --figures-from short-xi mixer-short-xi windowed-short-xi transformer-short-xi \
    --heatmap results/LEADERBOARD.png --html results/LEADERBOARD.html
leaderboard results/archive/LEADERBOARD-v2.md "results/rg-paper-v2.zarr results/architectures-full.zarr results/architectures-v2.zarr" \
    --figures-from short-xi mixer-short-xi windowed-short-xi transformer-short-xi
leaderboard results/archive/LEADERBOARD-v1.md "results/archive/rg-paper-v1.zarr results/archive/controls-v1.zarr results/archive/architectures-v1.zarr"
echo "results regenerated: results/*.zarr, results/*.score.{json,md}, results/LEADERBOARD.md, results/archive/, results/figures/"
