#!/bin/bash
# The cnist vs PyTorch benchmark on this machine (what `cmake --build build
# --target bench` and `make -C build bench` run):
#   1. build/bench/cnist_bench: cnist at 1 and 2 threads, and the sgemm peak;
#   2. bench/torch_bench.py: PyTorch at its three thread settings (skipped,
#      with a note, when /usr/bin/python3 cannot import torch);
#   3. end to end: `cnist train lenet --epochs 1` against
#      bench/torch_train_lenet.py, wall time from outside the process;
#   4. peak RSS while training custom2, both sides (/usr/bin/time);
#   5. bench/table.py: the Markdown table, printed, written to
#      bench/results.md and into docs/benchmarks.md's Results section
#      (not for --quick); without Python, the raw cnist JSON is printed.
# Raw JSON lines stay in <build>/bench-results/.
#
# usage: bench/run.sh [--build DIR] [--bench EXE] [--cnist EXE] [--quick]
#                     [--no-torch] [--out FILE]
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=$root/build
bench=""
cnist=""
quick=0
torch_on=1
out=""

while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --cnist) cnist=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --no-torch) torch_on=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$bench" ] || bench=$build/bench/cnist_bench
keep=0
if [ -z "$out" ] && [ $quick = 0 ]; then out=$here/results.md; keep=1; fi
[ -n "$cnist" ] || cnist=$build/cnist
if [ ! -x "$bench" ]; then
  echo "bench/run.sh: $bench: not built; run: cmake --build ${build#$root/} --target cnist_bench" >&2
  exit 1
fi

raw=$build/bench-results
rm -rf "$raw"
mkdir -p "$raw"
notes=$raw/notes.txt
: > "$notes"
note() { echo "bench: $*" >&2; echo "$*" >> "$notes"; }
cd "$root" || exit 1

py=""
if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; elif command -v python3 >/dev/null; then py=$(command -v python3); fi
timer=""
if [ -x /usr/bin/time ]; then
  timer=/usr/bin/time
else
  note "/usr/bin/time is missing (Debian package 'time'): no peak-memory figures"
fi

# Runs "$@" with wall time and peak RSS written to $1 as "SECONDS KB".
measure() {
  local f=$1; shift
  if [ -n "$timer" ]; then
    "$timer" -f '%e %M' -o "$f" "$@"
  else
    local t0 t1 rc
    t0=$(date +%s.%N); "$@"; rc=$?; t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f 0\n", b - a }' > "$f"
    return $rc
  fi
}
# The last line of a /usr/bin/time -o file ("Command exited ..." may precede it).
wall_of() { tail -n 1 "$1" | cut -d' ' -f1; }
rss_of() { tail -n 1 "$1" | cut -d' ' -f2; }

machine=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
cores=$(nproc)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
rel_build=${build#$root/}
command="bench/run.sh --build $rel_build"
[ $quick = 1 ] && command="$command --quick"
[ $torch_on = 0 ] && command="$command --no-torch"
echo "bench: $machine, $cores cores, load $load, $started" >&2

quick_flag=""
if [ $quick = 1 ]; then
  quick_flag=--quick
  note "quick run (--quick): 20 training batches, 100 latency samples, 0.2 s per inference size; a smoke test, not figures to quote"
fi

# 1. cnist
echo "bench: cnist side ($bench)" >&2
# OPENBLAS_NUM_THREADS=1: cnist_bench links OpenBLAS for the peak alone,
# whose thread pool would otherwise spin on the cores from the start; the
# peak, measured last, raises OpenBLAS's thread count itself.
# --bf16: the bf16 option too, on both sides (cnist_bench skips it, with a
# note, in a build without the bf16 kernel).
if ! OPENBLAS_NUM_THREADS=1 "$bench" $quick_flag --bf16 > "$raw/cnist.jsonl"; then
  note "cnist_bench failed (see the error above); its figures are incomplete"
fi

# 2. PyTorch
have_torch=0
if [ $torch_on = 0 ]; then
  note "PyTorch side skipped (--no-torch)"
elif [ -z "$py" ] || ! "$py" -c 'import torch' 2>/dev/null; then
  note "PyTorch side skipped: '${py:-python3} -c \"import torch\"' fails (install Debian's python3-torch to compare)"
else
  have_torch=1
  echo "bench: PyTorch side (a few minutes)" >&2
  if ! "$py" "$here/torch_bench.py" $quick_flag --bf16 > "$raw/torch.jsonl"; then
    note "torch_bench.py failed (see the error above); its figures are incomplete"
  fi
fi

# 3. End to end: one epoch of lenet, start to finish. Each side runs
# e2e_runs times, the two sides taking turns, and the table takes each
# side's fastest: one run on this shared 2-vCPU machine can land in a slow
# spell (the same binary took 2.3 s and 3.6 s in consecutive runs).
e2e=$raw/e2e.jsonl
: > "$e2e"
e2e_runs=3
[ $quick = 1 ] && e2e_runs=1
cnist_trains=0
if [ ! -f data/mnist/train-images-idx3-ubyte ] && [ ! -f data/mnist/train-images-idx3-ubyte.gz ]; then
  note "end-to-end rows skipped: no MNIST in data/mnist (run: build/cnist data fetch mnist)"
else
  for run in $(seq 1 $e2e_runs); do
    echo "bench: end to end, run $run of $e2e_runs: cnist train lenet --epochs 1" >&2
    rm -rf "$raw/lenet-run"
    if measure "$raw/e2e_cnist.time" "$cnist" train lenet --epochs 1 --quiet --run-dir "$raw/lenet-run" \
         > "$raw/e2e_cnist.out" 2> "$raw/e2e_cnist.err"; then
      cnist_trains=1
      echo "{\"side\":\"cnist\",\"metric\":\"e2e_wall\",\"model\":\"lenet\",\"run\":$run,\"wall_s\":$(wall_of "$raw/e2e_cnist.time"),\"maxrss_kb\":$(rss_of "$raw/e2e_cnist.time"),\"run_dir\":\"$raw/lenet-run\"}" >> "$e2e"
    else
      note "cnist end-to-end run $run failed: 'cnist train lenet --epochs 1': $(head -n 1 "$raw/e2e_cnist.err")"
    fi
    if [ $have_torch = 1 ]; then
      echo "bench: end to end, run $run of $e2e_runs: bench/torch_train_lenet.py" >&2
      if measure "$raw/e2e_torch.time" "$py" "$here/torch_train_lenet.py" >> "$e2e"; then
        echo "{\"side\":\"pytorch\",\"metric\":\"e2e_wall\",\"model\":\"lenet\",\"run\":$run,\"wall_s\":$(wall_of "$raw/e2e_torch.time"),\"maxrss_kb\":$(rss_of "$raw/e2e_torch.time")}" >> "$e2e"
      else
        note "PyTorch end-to-end run $run failed: torch_train_lenet.py"
      fi
    fi
  done
fi

# 4. Peak memory while training custom2: the real `cnist train` when it
# works (stopped by SIGINT after a while: buffers are all planned up front),
# else the engine alone in cnist_bench.
if [ -n "$timer" ]; then
  secs=25; batches=300
  [ $quick = 1 ] && { secs=8; batches=60; }
  echo "bench: peak memory while training custom2" >&2
  if [ $cnist_trains = 1 ]; then
    measure "$raw/rss_cnist.time" timeout -s INT -k 10 $secs "$cnist" train custom2 --epochs 1 --quiet \
      --run-dir "$raw/custom2-run" > /dev/null 2> "$raw/rss_cnist.err"
    how="cnist train custom2, stopped after ${secs} s"
  else
    measure "$raw/rss_cnist.time" "$bench" --models custom2 --threads 2 --train-only --no-peak \
      --train-batches 50 --warmup 0 > /dev/null 2> "$raw/rss_cnist.err"
    how="cnist_bench --train-only (engine and random batches; cnist train unavailable)"
  fi
  echo "{\"side\":\"cnist\",\"metric\":\"train_rss\",\"model\":\"custom2\",\"maxrss_kb\":$(rss_of "$raw/rss_cnist.time"),\"how\":\"$how\"}" >> "$e2e"
  if [ $have_torch = 1 ] && [ -f data/mnist/train-labels-idx1-ubyte -o -f data/mnist/train-labels-idx1-ubyte.gz ]; then
    if measure "$raw/rss_torch.time" "$py" "$here/torch_train_lenet.py" --model custom2 --max-batches $batches \
         --no-eval > /dev/null; then
      echo "{\"side\":\"pytorch\",\"metric\":\"train_rss\",\"model\":\"custom2\",\"maxrss_kb\":$(rss_of "$raw/rss_torch.time"),\"how\":\"torch_train_lenet.py --model custom2, $batches batches\"}" >> "$e2e"
    fi
  fi
fi

# 5. The table.
if [ -z "$py" ]; then
  note "python3 not found: raw cnist figures follow instead of the table"
  cat "$raw/cnist.jsonl" "$e2e"
  cat "$notes"
  exit 0
fi
if "$py" "$here/table.py" --raw "$raw" --command "$command" --machine "$machine" --cores "$cores" \
     --date "$started" --load "$load" > "$raw/results.md"; then
  cat "$raw/results.md"
  # bench/speedrun.sh's section (time to accuracy) comes from its own runs: kept as it was.
  if [ -n "$out" ] && grep -q '<!-- speedrun:begin -->' "$out" 2>/dev/null; then
    { echo; sed -n '/^## Time to accuracy/,/<!-- speedrun:end -->/p' "$out"; } >> "$raw/results.md"
  fi
  if [ -n "$out" ]; then
    cp "$raw/results.md" "$out"
    echo "bench: table written to $out" >&2
  fi
  # A full run also refreshes the Results section of docs/benchmarks.md.
  doc=$root/docs/benchmarks.md
  if [ $keep = 1 ] && grep -q '<!-- bench:results:begin -->' "$doc" 2>/dev/null; then
    awk -v f="$raw/results.md" '
      /<!-- bench:results:begin -->/ {
        print; print ""
        while ((getline l < f) > 0) { if (l ~ /^#/) l = "##" l; print l }
        skip = 1; next
      }
      /<!-- bench:results:end -->/ { skip = 0 }
      !skip { print }' "$doc" > "$raw/benchmarks.md" && cp "$raw/benchmarks.md" "$doc"
    echo "bench: results copied into $doc" >&2
  fi
  # ... and the README's summary: the preamble and the ratio tables, the
  # detailed sections staying in bench/results.md.
  readme=$root/README.md
  if [ $keep = 1 ] && grep -q '<!-- bench:summary:begin -->' "$readme" 2>/dev/null; then
    awk -v f="$raw/results.md" '
      /<!-- bench:summary:begin -->/ {
        print
        keep = 0
        while ((getline l < f) > 0) {
          if (l ~ /^# /) continue
          if (l ~ /^## /) keep = (l ~ /^## (Training throughput|Inference throughput|Single-image latency|End to end|Peak memory)/)
          else if (!seen_section) { print l; continue }
          seen_section = 1
          if (keep) { if (l ~ /^## /) l = "#" l; print l }
        }
        skip = 1; next
      }
      /<!-- bench:summary:end -->/ { skip = 0 }
      !skip { print }' "$readme" > "$raw/README.md" && cp "$raw/README.md" "$readme"
    echo "bench: summary copied into $readme" >&2
  fi
  echo "bench: raw JSON lines in $raw" >&2
else
  echo "bench: table.py failed; raw JSON lines are in $raw" >&2
  exit 1
fi
