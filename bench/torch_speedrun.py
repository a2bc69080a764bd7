#!/usr/bin/python3
"""The PyTorch side of `cnist speedrun --recipe fast|fast995`: one seed,
from interpreter start to the final test accuracy, with the recipe's rules.

Network: conv 5x5 1->C, relu, max pool 2, conv 3x3 C->32, relu, max pool
2, dense 800->256, relu, dense 10 (the softmax inside the cross-entropy),
as models/fast.model (C = 8) and models/fast995.model (C = 24); Keras
initialisation like cnist (glorot-uniform kernels, zero biases). Adam lr
0.01, betas 0.7/0.9, epsilon 1e-7 (Keras's, as cnist); PyTorch's OneCycleLR
over all steps (its defaults: 30% warm-up, cosine, start lr/25, end
lr/25/1e4, no momentum cycling), which cnist's `schedule one_cycle`
follows; batch 128; cross-entropy with label smoothing 0.1 (Keras's and
PyTorch's formula: (1 - 0.1) one-hot + 0.1/10); all 60,000 training images
(no validation split), in a fresh random order each epoch as cnist's.
`fast`: one epoch, no augmentation. `fast995`: ten epochs, each image
warped as cnist's `augment rotation=10 zoom=0.1 shift=0.1` warps it (a
rotation, a zoom per axis and a shift drawn uniformly per image, bilinear
sampling with zeros outside, about the image centre). Inputs are uint8/255
in [0, 1] as cnist's batcher. Then the test accuracy of the last weights.

Prints one JSON line:
  {"side": "pytorch", "recipe": args.recipe, "seed": 1, "setting": "t2_blas1",
   "load_s": ..., "train_s": ..., "eval_s": ..., "total_s": ..., "accuracy": 0.99}
(total_s is from interpreter start; bench/speedrun.sh also times the whole
process from outside, which is what its table shows.)
"""
import argparse
import json
import math
import os
import sys
import time

T_START = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (thread settings)
from torch_data import load_mnist  # noqa: E402


def build(torch, first):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, first, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(first, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 5 * 5, 256), nn.ReLU(), nn.Linear(256, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


# name: epochs, batch, (rotation degrees, zoom, shift) or None, the first convolution's channels
RECIPES = {"fast": (1, 128, None, 8), "fast995": (10, 128, (10.0, 0.1, 0.1), 24)}


def augment(torch, x, rotation, zoom, shift):
    """Each image of x [n, 1, h, w] read through in = M (out - c) + c - t,
    M = R(theta) diag(zx, zy), as cnist's src/data/augment.c."""
    n, _, h, w = x.shape
    def symmetric(r):
        return (2 * torch.rand(n) - 1) * r
    theta = symmetric(rotation * math.pi / 180)
    zx, zy = 1 + symmetric(zoom), 1 + symmetric(zoom)
    tx, ty = symmetric(shift) * w, symmetric(shift) * h
    c, s = torch.cos(theta), torch.sin(theta)
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32) - cy,
                          torch.arange(w, dtype=torch.float32) - cx, indexing="ij")
    sx = (c * zx)[:, None, None] * u - (s * zy)[:, None, None] * v + (cx - tx)[:, None, None]
    sy = (s * zx)[:, None, None] * u + (c * zy)[:, None, None] * v + (cy - ty)[:, None, None]
    # grid_sample's coordinates with align_corners=True: -1 and 1 are the outer pixels' centres.
    grid = torch.stack((sx * (2 / (w - 1)) - 1, sy * (2 / (h - 1)) - 1), dim=-1)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(here, "..", "data", "mnist"))
    p.add_argument("--setting", default="t2_blas1", choices=list(torch_bench.SETTINGS))
    p.add_argument("--recipe", default="fast", choices=list(RECIPES))
    p.add_argument("--seed", type=int, default=1)
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

    epochs, batch, warp, first = RECIPES[args.recipe]
    model = build(torch, first)
    steps_per_epoch = (len(y_tr) + batch - 1) // batch
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9), eps=1e-7)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=steps_per_epoch * epochs,
                                                cycle_momentum=False)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    t0 = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y_tr))
        for start in range(0, len(y_tr), batch):
            idx = order[start:start + batch]
            x = x_tr[idx] if warp is None else augment(torch, x_tr[idx], *warp)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y_tr[idx])
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

    print(json.dumps({"side": "pytorch", "recipe": args.recipe, "seed": args.seed, "setting": args.setting,
                      "threads": threads, "n_train": len(y_tr), "epochs": epochs, "load_s": load_s,
                      "train_s": train_s, "eval_s": eval_s, "total_s": time.perf_counter() - T_START,
                      "accuracy": hits / len(y_te)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
