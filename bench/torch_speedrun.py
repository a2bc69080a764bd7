#!/usr/bin/python3
"""The PyTorch side of `cnist speedrun --recipe fast`: one seed, from
interpreter start to the final test accuracy, with the recipe's rules.

Network: conv 5x5 1->24, relu, max pool 2, conv 3x3 24->32, relu, max pool
2, dense 800->256, relu, dense 10 (the softmax inside the cross-entropy),
as models/fast.model; Keras initialisation like cnist (glorot-uniform
kernels, zero biases). Adam lr 0.01, betas 0.7/0.9, epsilon 1e-7 (Keras's,
as cnist); PyTorch's OneCycleLR over all steps (its defaults: 30% warm-up,
cosine, start lr/25, end lr/25/1e4, no momentum cycling), which cnist's
`schedule one_cycle` follows; batch 256; one epoch of all 60,000 training
images (no validation split), in a fresh random order each epoch as
cnist's; no augmentation. Inputs are uint8/255 in [0, 1] as cnist's
batcher. Then the test accuracy of the last weights.

Prints one JSON line:
  {"side": "pytorch", "recipe": "fast", "seed": 1, "setting": "t2_blas1",
   "load_s": ..., "train_s": ..., "eval_s": ..., "total_s": ..., "accuracy": 0.99}
(total_s is from interpreter start; bench/speedrun.sh also times the whole
process from outside, which is what its table shows.)
"""
import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (thread settings)
from torch_data import load_mnist  # noqa: E402


def build(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 24, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(24, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 5 * 5, 256), nn.ReLU(), nn.Linear(256, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(here, "..", "data", "mnist"))
    p.add_argument("--setting", default="t2_blas1", choices=list(torch_bench.SETTINGS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--eval-batch", type=int, default=1000)
    p.add_argument("--limit-train", type=int, default=0, help="train on the first N images only (0: all)")
    args = p.parse_args()

    # Thread environment before torch is imported: OpenBLAS reads it at load time.
    threads, env = torch_bench.SETTINGS[args.setting]
    os.environ.update(env)
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    x_tr, y_tr, x_te, y_te = load_mnist(args.data, torch)
    if args.limit_train:
        x_tr, y_tr = x_tr[:args.limit_train], y_tr[:args.limit_train]
    load_s = time.perf_counter() - t0

    model = build(torch)
    steps_per_epoch = (len(y_tr) + args.batch - 1) // args.batch
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9), eps=1e-7)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=steps_per_epoch * args.epochs,
                                                cycle_momentum=False)
    loss_fn = torch.nn.CrossEntropyLoss()

    t0 = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(y_tr))
        for start in range(0, len(y_tr), args.batch):
            idx = order[start:start + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            opt.step()
            sched.step()
    train_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    model.eval()
    hits = 0
    with torch.no_grad():
        for start in range(0, len(y_te), args.eval_batch):
            out = model(x_te[start:start + args.eval_batch])
            hits += int((out.argmax(1) == y_te[start:start + args.eval_batch]).sum())
    eval_s = time.perf_counter() - t0

    print(json.dumps({"side": "pytorch", "recipe": "fast", "seed": args.seed, "setting": args.setting,
                      "threads": threads, "n_train": len(y_tr), "epochs": args.epochs, "load_s": load_s,
                      "train_s": train_s, "eval_s": eval_s, "total_s": time.perf_counter() - T_START,
                      "accuracy": hits / len(y_te)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
