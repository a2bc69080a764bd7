#!/usr/bin/python3
"""The PyTorch equivalent of `cnist train lenet --epochs 1`, for the
end-to-end wall-time comparison: start, load the MNIST IDX files, a seeded
85/15 train/validation split, one epoch of batch-32 Adam with per-epoch
shuffling, then loss and accuracy on train, validation and test.

Prints one JSON line with the phase times, e.g.
  {"side": "pytorch", "metric": "e2e", "model": "lenet", "setting": "t2_blas1",
   "load_s": 0.2, "train_s": 3.4, "eval_s": 1.1, "total_s": 6.0, ...}
(total_s is measured from interpreter start; the harness also times the
whole process from outside.)

--model custom2 --max-batches N --no-eval trains only N batches: the
harness uses it to measure peak memory while training custom2.
"""
import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (model definitions and thread settings)
from torch_data import load_mnist  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(here, "..", "data", "mnist"))
    p.add_argument("--model", default="lenet", choices=torch_bench.MODELS)
    p.add_argument("--setting", default="t2_blas1", choices=list(torch_bench.SETTINGS))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-batch", type=int, default=100)
    p.add_argument("--val-split", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--max-batches", type=int, default=0, help="stop training after N batches (0: full epochs)")
    p.add_argument("--no-eval", action="store_true", help="skip the train/val/test evaluation")
    p.add_argument("--out", default="", help="save the trained weights here (torch.save)")
    args = p.parse_args()

    # Thread environment before torch is imported: OpenBLAS reads it at load time.
    threads, env = torch_bench.SETTINGS[args.setting]
    os.environ.update(env)
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    x_all, y_all, x_te, y_te = load_mnist(args.data, torch)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(y_all))
    n_train = len(perm) - int(round(len(perm) * args.val_split))
    tr_idx, va_idx = torch.from_numpy(perm[:n_train]), torch.from_numpy(perm[n_train:])
    x_tr, y_tr, x_va, y_va = x_all[tr_idx], y_all[tr_idx], x_all[va_idx], y_all[va_idx]
    load_s = time.perf_counter() - t0

    model = torch_bench.build(args.model, torch)
    opt = torch_bench.make_optimizer(args.model, model, torch)
    loss_fn = torch.nn.CrossEntropyLoss()

    t0 = time.perf_counter()
    batches = 0
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(n_train)
        loss_sum, hits = 0.0, 0
        for start in range(0, n_train, args.batch):
            idx = order[start:start + args.batch]
            x, y = x_tr[idx], y_tr[idx]
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            hits += int((out.argmax(1) == y).sum())
            batches += 1
            if args.max_batches and batches >= args.max_batches:
                break
    train_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    model.eval()
    results = {}
    sets = () if args.no_eval else (("train", (x_tr, y_tr)), ("val", (x_va, y_va)), ("test", (x_te, y_te)))
    with torch.no_grad():
        for name, (x, y) in sets:
            loss_sum, hits = 0.0, 0
            for start in range(0, len(y), args.eval_batch):
                out = model(x[start:start + args.eval_batch])
                yy = y[start:start + args.eval_batch]
                loss_sum += float(torch.nn.functional.cross_entropy(out, yy, reduction="sum"))
                hits += int((out.argmax(1) == yy).sum())
            results[name + "_loss"] = loss_sum / len(y)
            results[name + "_accuracy"] = hits / len(y)
    eval_s = time.perf_counter() - t0
    if args.out:
        torch.save(model.state_dict(), args.out)

    record = {"side": "pytorch", "metric": "e2e", "model": args.model, "setting": args.setting,
              "threads": threads, "epochs": args.epochs, "batches": batches, "n_train": n_train,
              "load_s": load_s, "train_s": train_s, "eval_s": eval_s,
              "total_s": time.perf_counter() - T_START}
    record.update(results)
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
