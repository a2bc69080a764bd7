#!/bin/bash
# What an activation costs: lenet as the zoo has it (relu) against the same
# network with every relu replaced by tanh, then by sigmoid, trained by
# build/bench/engine_bench (batch 32, forward + backward + SGD step) in one
# run, and each one's training step as a ratio to relu's.
#
# usage: bench/activations.sh [--build DIR] [--threads 1,2] [--seconds S]
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=$root/build
threads=1,2
seconds=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/activations.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
bench=$build/bench/engine_bench
[ -x "$bench" ] || { echo "bench/activations.sh: $bench: not built" >&2; exit 1; }
dir=$build/bench-activations
mkdir -p "$dir"
models=""
for act in relu tanh sigmoid; do
  sed "s/activation=relu/activation=$act/g; s/^# lenet:/# lenet_$act:/" "$root/models/lenet.model" > "$dir/lenet_$act.model"
  models=${models:+$models,}$dir/lenet_$act.model
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
"$bench" --threads "$threads" --seconds "$seconds" --no-layers --models "$models" | tee "$dir/engine_bench.txt"
# Each row's train step against relu's at the same thread count.
awk -F'|' '/lenet_(relu|tanh|sigmoid)\.model/ {
  n = split($2, p, "/"); name = p[n]; gsub(/ /, "", name); t = $3 + 0; step = $7 + 0
  if (name ~ /relu/) relu[t] = step
  rows[++k] = name "|" t "|" step
}
END {
  print "\n| model | threads | train step ms | / relu |"; print "|---|---|---:|---:|"
  for (i = 1; i <= k; i++) { split(rows[i], f, "|"); printf "| %s | %s | %.3f | %.2f |\n", f[1], f[2], f[3], f[3] / relu[f[2]] }
}' "$dir/engine_bench.txt"
