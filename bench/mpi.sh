#!/bin/bash
# Data-parallel training throughput on this machine, in one run, for each
# model (global batch 32):
#   cnist, one process:  cnist train M --threads 2
#   cnist, 2 ranks:      mpirun -np 2 --bind-to core cnist train M --threads 1
#                        (each batch split over the ranks, the same bits),
#                        the gradients broadcast in buckets during the
#                        backward pass (the default), and again with
#                        CNIST_MPI_BUCKET_KIB=0 (one broadcast after it)
#   PyTorch, one process: bench/torch_ddp.py --mode single --threads 2
#   PyTorch DDP:         bench/torch_ddp.py --mode ddp --world 2 --threads 1
#                        (gloo, 2 processes, 16 images each)
# cnist's figure is the second epoch's training images per second from
# history.csv's seconds column (the training loop alone, no validation:
# --val-split 0), on the first LIMIT training images. Prints a Markdown
# table and writes it between the <!-- mpi:begin --> and <!-- mpi:end -->
# lines of docs/mpi.md (not with --no-write). Raw lines stay in
# <build>/mpi-results/.
#
# usage: bench/mpi.sh [--build DIR] [--models mlp,lenet,cnn_bn,custom2] [--no-write]
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=$root/build
models=mlp,lenet,cnn_bn,custom2
write=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/mpi.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
cnist=$build/cnist
[ -x "$cnist" ] || { echo "bench/mpi.sh: $cnist: not built" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench/mpi.sh: no mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "bench/mpi.sh: /usr/bin/python3 cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
raw=$build/mpi-results
rm -rf "$raw"
mkdir -p "$raw"
cd "$root" || exit 1
mpirun=(mpirun --bind-to core -np 2 -x CNIST_MPI_BUCKET_KIB)
[ "$(id -u)" = 0 ] && mpirun=(mpirun --allow-run-as-root --bind-to core -np 2 -x CNIST_MPI_BUCKET_KIB)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# Enough images for a second epoch of a few seconds.
limit() { case $1 in mlp) echo 60000 ;; custom2) echo 6400 ;; *) echo 19200 ;; esac; }

# img/s of epoch 2 of a finished run folder.
epoch2_rate() {
  awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i }
                     $1 == "2" { printf "%.0f", n / $c }' "$1/history.csv"
}

cnist_rate() { # model, label, launcher words...
  local m=$1 label=$2 dir=$raw/$1-$2 n
  shift 2
  n=$(limit "$m")
  "$@" "$cnist" train "$m" --epochs 2 --batch 32 --val-split 0 --limit-train "$n" --limit-test 1000 \
    --run-dir "$dir" --quiet $([ "$label" = one ] && echo --threads 2 || echo --threads 1) \
    > "$dir.log" 2>&1 || { echo "bench/mpi.sh: $m ($label) failed; see $dir.log" >&2; echo "-"; return; }
  epoch2_rate "$dir" "$n"
}

# PyTorch's best of three fresh processes: on this machine a process runs
# either at full speed or, now and then, about 3.5x slower throughout (lenet,
# one process, 2 threads: 12.6k or 3.4k img/s), so one process could
# understate it.
torch_rate() { # model, mode, args...
  local m=$1 mode=$2 i
  shift 2
  for i in 1 2 3; do
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$here/torch_ddp.py" --model "$m" --mode "$mode" "$@" \
      >> "$raw/$m-torch-$mode.json" 2>> "$raw/$m-torch-$mode.log" ||
      { echo "bench/mpi.sh: PyTorch $m ($mode) failed; see $raw/$m-torch-$mode.log" >&2; echo "-"; return; }
  done
  /usr/bin/python3 -c 'import json, sys; print(round(max(json.loads(l)["img_s"] for l in open(sys.argv[1]))))' \
    "$raw/$m-torch-$mode.json"
}

thousands() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f×", a / b; else printf "-" }'; }

table="| model | cnist, 1 process × 2 threads | cnist, 2 ranks × 1 thread | 2 ranks / 1 process | 2 ranks, one broadcast after the backward pass | PyTorch, 1 process × 2 threads | PyTorch DDP, 2 × 1 thread | cnist 2 ranks / PyTorch DDP |
|---|---:|---:|---:|---:|---:|---:|---:|"
for m in ${models//,/ }; do
  one=$(cnist_rate "$m" one)
  two=$(CNIST_MPI_BUCKET_KIB=256 cnist_rate "$m" mpi2 "${mpirun[@]}")
  whole=$(CNIST_MPI_BUCKET_KIB=0 cnist_rate "$m" mpi2-whole "${mpirun[@]}")
  tone=$(torch_rate "$m" single --threads 2)
  tddp=$(torch_rate "$m" ddp --world 2 --threads 1)
  row="| $m | $(thousands "$one") | $(thousands "$two") | $(ratio "$two" "$one") | $(thousands "$whole") | $(thousands "$tone") | $(thousands "$tddp") | $(ratio "$two" "$tddp") |"
  echo "$row" | tee -a "$raw/rows.txt"
  table+=$'\n'"$row"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
block="Training images per second at a global batch of 32 (\`bench/mpi.sh\`, $started, $cpu,
load $load_start at the start, $load_end at the end; cnist: the second epoch
of \`--val-split 0\` runs, PyTorch: the best of three fresh processes, each the best of three
200-step windows):

$table"
echo
echo "$block"
if [ "$write" = 1 ]; then
  BLOCK=$block /usr/bin/python3 - "$root/docs/mpi.md" <<'EOF'
import os, re, sys
path = sys.argv[1]
text = open(path).read()
new = "<!-- mpi:begin -->\n" + os.environ["BLOCK"] + "\n<!-- mpi:end -->"
text, n = re.subn(r"<!-- mpi:begin -->.*?<!-- mpi:end -->", lambda _: new, text, flags=re.S)
if n != 1:
    sys.exit(path + ": no <!-- mpi:begin --> ... <!-- mpi:end --> block")
open(path, "w").write(text)
EOF
fi
