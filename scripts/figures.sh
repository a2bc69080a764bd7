#!/usr/bin/env bash
# Reproduces the accuracy figures quoted in the README (issue 5), each with
# the zoo model's own settings unless named here, seed 1, the 85/15 split:
#   lenet    lenet, 3 epochs                                  (target >= 98.8% test)
#   mlp      mlp, 5 epochs                                    (target >= 97.5%)
#   custom2  custom2, the study's schedule (20 epochs, callbacks)  (target >= 99.5%)
#   fashion  custom2 on Fashion-MNIST, its own (the study's) schedule (target >= 92%)
#   lenet-seeds  lenet, 3 epochs, seeds 1-5, and the same network in PyTorch
#            (bench/torch_train_lenet.py, seeds 1-3) for comparison; not in the default set
#   lenet-bf16, mlp-bf16, custom2-bf16  the bf16 option (--precision bf16) with the
#            settings of the fp32 figure of the same name; not in the default set
# usage: scripts/figures.sh [lenet] [mlp] [custom2] [fashion] [lenet-seeds] [NAME-bf16]
#        (default: lenet mlp custom2 fashion)
# Each run goes to runs/figures-<name>/ (replaced); the table at the end is
# `cnist compare` of those runs, and each run's wall time is printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cnist=${CNIST:-build/cnist}  # CNIST=path runs another build
[ -x "$cnist" ] || { echo "build first: bash scripts/demo.sh or cmake --build build" >&2; exit 1; }
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(lenet mlp custom2 fashion)

# lenet's 3-epoch test accuracy over seeds, beside PyTorch's for the same
# network, initialisation, optimizer and split.
lenet_seeds() {
  for seed in 1 2 3 4 5; do
    dir=runs/figures-lenet-seed$seed
    rm -rf "$dir"
    "$cnist" train lenet --epochs 3 --seed $seed --quiet --run-dir "$dir" | grep "^Test accuracy"
  done
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    for seed in 1 2 3; do
      /usr/bin/python3 bench/torch_train_lenet.py --epochs 3 --seed $seed | tail -n 1 |
        /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print('PyTorch lenet, 3 epochs, seed $seed: test accuracy %.2f%% (final weights)' % (100 * d['test_accuracy']))"
    done
  else
    echo "PyTorch comparison skipped: /usr/bin/python3 cannot import torch"
  fi
}

runs=()
for name in "${which[@]}"; do
  case "$name" in
    lenet)   args=(lenet --epochs 3) ;;
    mlp)     args=(mlp --epochs 5) ;;
    custom2) args=(custom2) ;;
    fashion) args=(custom2 --dataset fashion) ;;
    lenet-bf16)   args=(lenet --epochs 3 --precision bf16) ;;
    mlp-bf16)     args=(mlp --epochs 5 --precision bf16) ;;
    custom2-bf16) args=(custom2 --precision bf16) ;;
    lenet-seeds) lenet_seeds; continue ;;
    *) echo "unknown figure '$name' (lenet, mlp, custom2, fashion, lenet-seeds, lenet-bf16, mlp-bf16, custom2-bf16)" >&2; exit 2 ;;
  esac
  dir=runs/figures-$name
  rm -rf "$dir"
  start=$(date +%s)
  "$cnist" train "${args[@]}" --seed 1 --run-dir "$dir"
  echo "figure $name: cnist train ${args[*]} --seed 1: wall time $(( $(date +%s) - start )) s"
  runs+=("$dir")
done
if [ ${#runs[@]} -gt 0 ]; then
  echo
  "$cnist" compare "${runs[@]}"
fi
