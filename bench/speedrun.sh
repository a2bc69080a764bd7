#!/bin/bash
# Time to accuracy, cnist against PyTorch on this machine, in one run:
#   1. `cnist speedrun --recipe R --json` (each seed a fresh process timed
#      from its start to its final test accuracy): `fast` on the first 15,000
#      training images (the 98% row) and on all 60,000 (the 99% row), and
#      `fast995` on all 60,000 (the 99.5% row);
#   2. bench/torch_speedrun.py, the same recipe in PyTorch, each seed a fresh
#      /usr/bin/python3 timed from outside the same way, at the thread setting
#      that was fastest for seed 1 of `fast` (t1, t2, t2_blas1 tried);
#      fast995 takes PyTorch minutes a seed, so it runs --torch-seeds-995 of
#      them (2 by default);
#   3. the Markdown table, printed and written between the
#      <!-- speedrun:begin --> and <!-- speedrun:end --> lines of
#      bench/results.md and README.md (not with --no-write).
# Raw JSON lines stay in <build>/speedrun-results/.
#
# usage: bench/speedrun.sh [--build DIR] [--seeds N] [--torch-seeds-995 N] [--no-write]
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=$root/build
seeds=5
torch_seeds_995=2
write=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --torch-seeds-995) torch_seeds_995=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/speedrun.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
cnist=$build/cnist
[ -x "$cnist" ] || { echo "bench/speedrun.sh: $cnist: not built" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "bench/speedrun.sh: /usr/bin/python3 cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
raw=$build/speedrun-results
rm -rf "$raw"
mkdir -p "$raw"
cd "$root" || exit 1
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
machine="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(nproc) cores"
echo "load $(load) at the start" > "$raw/loads.txt"

# Each configuration: name, recipe, target, PyTorch seeds, options for both sides.
configs=("fast15k|fast|0.98|$seeds|--limit-train 15000" "fast|fast|0.99|$seeds|"
         "fast995|fast995|0.995|$torch_seeds_995|")

# PyTorch's thread setting: the fastest for seed 1 on all images.
best=""
best_s=""
for setting in t1 t2 t2_blas1; do
  t0=$(now)
  /usr/bin/python3 bench/torch_speedrun.py --recipe fast --seed 1 --setting $setting > "$raw/torch-setting-$setting.json" || exit 1
  s=$(echo "$(now) - $t0" | bc)
  echo "torch setting $setting: $s s (seed 1)" | tee -a "$raw/loads.txt" >&2
  if [ -z "$best" ] || [ "$(echo "$s < $best_s" | bc)" = 1 ]; then best=$setting; best_s=$s; fi
done

for config in "${configs[@]}"; do
  IFS='|' read -r name recipe target tseeds opts <<< "$config"
  echo "cnist $name: load $(load)" | tee -a "$raw/loads.txt" >&2
  # shellcheck disable=SC2086
  "$cnist" speedrun --recipe "$recipe" --target "$target" --seeds "$seeds" --json --run-dir "$raw/runs-$name" $opts \
    > "$raw/cnist-$name.json" || exit 1
  echo "torch $name ($best): load $(load)" | tee -a "$raw/loads.txt" >&2
  : > "$raw/torch-$name.jsonl"
  for s in $(seq 1 "$tseeds"); do
    t0=$(now)
    # shellcheck disable=SC2086
    line=$(/usr/bin/python3 bench/torch_speedrun.py --recipe "$recipe" --seed "$s" --setting "$best" $opts) || exit 1
    echo "$line" | /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["wall_s"]=float(sys.argv[1]); print(json.dumps(r))' \
      "$(echo "$(now) - $t0" | bc)" >> "$raw/torch-$name.jsonl"
  done
done
echo "load $(load) at the end" >> "$raw/loads.txt"

/usr/bin/python3 - "$raw" "$seeds" "$best" "$started" "$torch_seeds_995" "$machine" > "$raw/table.md" <<'EOF'
import json, os, sys
raw, seeds, best, started, torch_995, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
loads = open(os.path.join(raw, "loads.txt")).read().strip().splitlines()
rows = [("98%", 0.98, "fast15k", "`fast`, first 15,000 training images"),
        ("99%", 0.99, "fast", "`fast`, all 60,000 training images"),
        ("99.5%", 0.995, "fast995", "`fast995`, all 60,000 training images")]
def side(name):
    c = json.load(open(os.path.join(raw, "cnist-%s.json" % name)))
    t = [json.loads(l) for l in open(os.path.join(raw, "torch-%s.jsonl" % name))]
    ct = [r["seconds"] for r in c["runs"]]
    ca = [r["accuracy"] for r in c["runs"]]
    return (sum(ct) / len(ct), sum(ca) / len(ca), sum(r["wall_s"] for r in t) / len(t),
            sum(r["accuracy"] for r in t) / len(t), len(ct), t)
print("Generated on %s (%s) by `bench/speedrun.sh --seeds %d --torch-seeds-995 %d`; each figure is the mean over the seeds counted "
      "in its column (seeds 1 to N), each seed a fresh process timed from its start to its final test "
      "accuracy (IDX files read, the recipe's epochs, test set evaluated, not the training set: "
      "`cnist train --no-train-eval`). PyTorch: "
      "`bench/torch_speedrun.py` at `%s`, its fastest thread setting for seed 1. The 1-minute load "
      "average (%s) says how busy the 2 cores were: above about 2, other work shared them and the "
      "seconds are high and noisy; the ratios come from the same run." % (started, machine, seeds, torch_995, best, "; ".join(loads)))
print()
print("| target | recipe | cnist s | cnist accuracy | PyTorch s | PyTorch accuracy | PyTorch / cnist |")
print("|---|---|---:|---:|---:|---:|---:|")
for label, target, name, what in rows:
    cs, ca, ts, ta, cn, t = side(name)
    mark = lambda a, n: "%.2f%%%s (%d seeds)" % (100 * a, "" if a >= target else ", not reached", n)
    print("| %s | %s | %.2f | %s | %.2f | %s | %.2f× |" % (label, what, cs, mark(ca, cn), ts, mark(ta, len(t)), ts / cs))
print()
for name in ("fast", "fast995"):
    _, _, _, _, _, t = side(name)
    print("PyTorch's phases for `%s` (mean s): load %.2f, train %.2f, evaluate %.2f, from interpreter start %.2f."
          % ((name,) + tuple(sum(r[k] for r in t) / len(t) for k in ("load_s", "train_s", "eval_s", "total_s"))))
EOF
cat "$raw/table.md"
if [ $write = 1 ]; then
  for f in "$here/results.md" "$root/README.md"; do
    grep -q '<!-- speedrun:begin -->' "$f" || continue
    awk -v t="$raw/table.md" '
      /<!-- speedrun:begin -->/ { print; print ""; while ((getline l < t) > 0) print l; print ""; skip = 1; next }
      /<!-- speedrun:end -->/ { skip = 0 }
      !skip { print }' "$f" > "$raw/tmp" && cat "$raw/tmp" > "$f"
  done
fi
