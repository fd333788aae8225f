#!/usr/bin/env bash
# Scores the detectors on the development corpus.
#   bench/eval.sh [extra score.py args, e.g. --by-category]
# EVAL_DIR (default ../shared/eval, relative to the repository root) holds dev.jsonl and score.py.
# Builds TapPass.Server in Release, runs `scan` over the corpus, writes the predictions and the
# metrics to bench/results/ and prints the scorer's report (its last line is the summary).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
eval_dir="${EVAL_DIR:-../shared/eval}"
case "$eval_dir" in
  /*) ;;
  *) eval_dir="$root/$eval_dir" ;;
esac
corpus="$eval_dir/dev.jsonl"
scorer="$eval_dir/score.py"
[[ -f "$corpus" && -f "$scorer" ]] || { echo "eval.sh: no dev.jsonl/score.py in $eval_dir (set EVAL_DIR)" >&2; exit 2; }

results="$root/bench/results"
mkdir -p "$results"
out="$root/artifacts/eval-server"
dotnet build src/TapPass.Server/TapPass.Server.csproj -c Release -nologo -v:q -o "$out" >&2

predictions="$results/dev.predictions.jsonl"
"$out/TapPass.Server" scan < "$corpus" > "$predictions"
python3 "$scorer" "$corpus" "$predictions" --json "$results/dev.metrics.json" "$@" | tee "$results/dev.report.txt"
