#!/usr/bin/env bash
# Regenerate every shipped result from scratch: the five standard suites' stores, their score
# reports, results/LEADERBOARD.md and the figures under results/figures/ (git keeps each suite's
# overview.png; the per-case PNGs and report.html are regenerated locally).
#
#   scripts/regenerate-results.sh            # all suites (about 40 minutes on 2 CPU cores)
#   scripts/regenerate-results.sh smoke theory   # only these suites (the leaderboard is rebuilt
#                                                # from whatever stores exist)
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
    suites=(smoke rg-paper controls architectures theory)
fi

mkdir -p results/figures
for suite in "${suites[@]}"; do
    store="results/${suite}.zarr"
    marker="results/.${suite}.regenerating"
    # A fresh start unless an interrupted regeneration of this suite is being resumed.
    if [ ! -e "$marker" ]; then
        rm -rf "$store"
        touch "$marker"
    fi
    start=$SECONDS
    rgbench run "suites/${suite}.yaml" --store "$store" --devices "$devices"
    echo "${suite}: $((SECONDS - start)) s wall"
    rgbench score "$store" --format json > "results/${suite}.score.json"
    rgbench score "$store" --format markdown > "results/${suite}.score.md"
    if [ "$suite" != theory ] && [ "$suite" != smoke ]; then  # nothing trained in theory; smoke is a toy
        rm -rf "results/figures/${suite}"
        rgbench plot "$store" --out "results/figures/${suite}"
    fi
    rm -f "$marker"
done

stores=()
for suite in rg-paper controls architectures; do
    [ -d "results/${suite}.zarr" ] && stores+=("results/${suite}.zarr")
done
rgbench leaderboard "${stores[@]}" --format markdown --out results/LEADERBOARD.md
echo "results regenerated: results/*.zarr, results/*.score.{json,md}, results/LEADERBOARD.md, results/figures/"
