#!/usr/bin/python3
"""PyTorch side of the cnist benchmark: the zoo's models, built identically.

For each model and thread setting it measures training throughput (batch 32,
forward + loss + backward + Adam step, after warm-up), inference throughput
(batch 32, 100, 1000; eval mode, no_grad) and single-image latency (median).
Every thread setting runs in a fresh subprocess, because OpenBLAS and OpenMP
read their environment variables only once, when torch is imported.

Output: one JSON object per line on stdout, e.g.
  {"side": "pytorch", "setting": "t2_blas1", "threads": 2, "model": "lenet",
   "metric": "train_img_s", "batch": 32, "value": 15234.2}
metrics: train_img_s, infer_img_s, latency_us, and per model one "arch"
record (parameters, forward MACs per image) so the harness can check that
both sides run the same network.

--bf16 adds PyTorch's own bf16 mixed precision, measured after the fp32
figures (which it leaves as they are), each thread setting again in a fresh
process: records get "precision": "bf16" and the setting name a _bf16 suffix
("t2_blas1_bf16"). Training runs forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16), backward and Adam on the fp32
weights (no GradScaler: bf16 has fp32's exponent range). Inference and
latency try two ways and report the faster in "mode": "autocast" (fp32
model under autocast) or "bf16_weights" (a copy of the model cast to
torch.bfloat16, the fp32 input cast inside the timed call); "other_value"
holds the slower one's figure. --bf16-only skips the fp32 figures.

Usage: bench/torch_bench.py [--models mlp,lenet] [--settings t1,t2,t2_blas1]
       [--train-batches 200] [--quick] [--bf16 | --bf16-only]
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import time

MODELS = ["mlp", "lenet", "custom1", "custom2", "cnn_bn"]

# Thread settings: name -> (torch.set_num_threads, extra environment).
SETTINGS = {
    "t1": (1, {}),
    "t2": (2, {}),
    # Two intra-op threads over single-threaded BLAS: the two pools no longer fight.
    "t2_blas1": (2, {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}),
}


def build(name, torch):
    """The zoo model `name` as an nn.Sequential with Keras conventions:
    'same' padding for stride 1 is k//2, max pooling floors, batch norm
    momentum 0.99 (PyTorch's 0.01) and epsilon 1e-3. The last dense layer
    gives logits; the softmax is inside the cross-entropy, as in cnist."""
    nn = torch.nn

    def conv(cin, cout, k, same):
        return nn.Conv2d(cin, cout, k, padding=k // 2 if same else 0)

    def bn2(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    if name == "mlp":
        layers = [nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)]
    elif name == "lenet":
        layers = [conv(1, 6, 5, True), nn.ReLU(), nn.MaxPool2d(2),
                  conv(6, 16, 5, False), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
                  nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    elif name == "custom1":
        layers = [conv(1, 32, 3, True), nn.ReLU(), nn.MaxPool2d(2),
                  conv(32, 64, 3, False), nn.ReLU(), nn.MaxPool2d(2),
                  conv(64, 64, 3, False), nn.ReLU(),
                  nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10)]
    elif name == "custom2":
        layers, cin = [], 1
        for f in (32, 64, 128):
            layers += [conv(cin, f, 3, True), nn.ReLU(), bn2(f),
                       conv(f, f, 3, True), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3)]
            cin = f
        layers += [nn.Flatten(), nn.Linear(128 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.4),
                   nn.Linear(128, 10)]
    elif name == "cnn_bn":
        layers = [conv(1, 16, 3, True), bn2(16), nn.ReLU(), nn.MaxPool2d(2),
                  conv(16, 32, 3, True), bn2(32), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(32 * 7 * 7, 128),
                  nn.BatchNorm1d(128, eps=1e-3, momentum=0.01), nn.ReLU(), nn.Linear(128, 10)]
    else:
        raise ValueError("unknown model " + name)
    model = nn.Sequential(*layers)
    # Keras initialisation (glorot-uniform kernels, zero biases), like cnist.
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def learning_rate(name):
    return 1e-4 if name == "cnn_bn" else 1e-3


def make_optimizer(name, model, torch):
    # Keras Adam: epsilon 1e-7.
    return torch.optim.Adam(model.parameters(), lr=learning_rate(name), eps=1e-7)


def forward_macs(model, torch):
    """Multiply-adds of one forward pass for one image (conv and dense only),
    in total and in the first such layer (whose input gradient no one computes)."""
    per_layer = []
    hooks = []

    def count(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            per_layer.append(out[0].numel() * mod.in_channels * kh * kw)
        elif isinstance(mod, torch.nn.Linear):
            per_layer.append(mod.in_features * mod.out_features)

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            hooks.append(m.register_forward_hook(count))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return sum(per_layer), per_layer[0]


def emit(record):
    print(json.dumps(record), flush=True)


TRAIN_WINDOWS = 3


def timed_loop(step, min_iters, min_seconds):
    """Runs step() at least min_iters times and min_seconds; returns (iters, s)."""
    iters = 0
    t0 = time.perf_counter()
    while True:
        step()
        iters += 1
        elapsed = time.perf_counter() - t0
        if iters >= min_iters and elapsed >= min_seconds:
            return iters, elapsed


def bf16_autocast(torch):
    """A fresh autocast context: GEMM-like ops (conv, linear) in bf16."""
    return torch.autocast("cpu", dtype=torch.bfloat16)


def inference_candidates(name, model, bf16, torch):
    """[(mode, forward function)] to time for inference: the model itself in
    fp32; in bf16 the model under autocast and, when it runs, a copy cast to
    bf16 (its input cast inside the call, as a caller with fp32 images would)."""
    if not bf16:
        return [(None, model)]

    def under_autocast(x):
        with bf16_autocast(torch):
            return model(x)

    cands = [("autocast", under_autocast)]
    low = copy.deepcopy(model).to(torch.bfloat16)
    try:
        low(torch.zeros(2, 1, 28, 28, dtype=torch.bfloat16))
        cands.append(("bf16_weights", lambda x: low(x.to(torch.bfloat16))))
    except RuntimeError as e:  # an op without a bf16 CPU kernel
        print("torch_bench: %s: model cast to bf16 fails (%s); autocast only" % (name, e),
              file=sys.stderr)
    return cands


def bench_model(name, setting, threads, args, torch):
    torch.manual_seed(0)
    model = build(name, torch)
    bf16 = args.precision == "bf16"
    base = {"side": "pytorch", "setting": setting, "threads": threads, "model": name}
    if bf16:
        base = dict(base, setting=setting + "_bf16", precision="bf16")
    else:
        # The architecture once, from the fp32 pass (bf16 runs the same network).
        params = sum(p.numel() for p in model.parameters())
        macs = forward_macs(model, torch)
        emit(dict(base, metric="arch", params=params, macs_per_image=macs[0], first_layer_macs=macs[1]))

    # Training: a few distinct random batches cycled, so data generation is not timed.
    batch = 32
    gen = torch.Generator().manual_seed(1)
    xs = [torch.rand(batch, 1, 28, 28, generator=gen) for _ in range(8)]
    ys = [torch.randint(0, 10, (batch,), generator=gen) for _ in range(8)]
    opt = make_optimizer(name, model, torch)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    state = {"i": 0, "loss": 0.0}

    def forward_loss(x, y):
        return loss_fn(model(x), y)

    if bf16:
        # Forward and loss under autocast; the backward pass outside it, as
        # PyTorch's AMP recipe says (it runs in the forward ops' dtypes).
        def forward_loss(x, y):
            with bf16_autocast(torch):
                return loss_fn(model(x), y)

    def train_step():
        i = state["i"] % len(xs)
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        loss = forward_loss(xs[i], ys[i])
        loss.backward()
        opt.step()
        # A training loop reads the loss every batch (cnist returns it too).
        state["loss"] += loss.item()

    for _ in range(args.warmup):
        train_step()
    # The best of TRAIN_WINDOWS windows (cnist_bench does the same): on a
    # shared machine a window can lose a core to other work.
    best = None
    for _ in range(TRAIN_WINDOWS):
        cpu0 = time.process_time()
        iters, secs = timed_loop(train_step, args.train_batches, 0.0)
        cpu = time.process_time() - cpu0
        if best is None or iters / secs > best[0] / best[1]:
            best = (iters, secs, cpu)
    iters, secs, cpu = best
    emit(dict(base, metric="train_img_s", batch=batch, value=iters * batch / secs,
              batches=iters, seconds=secs, cpu_s=cpu, windows=TRAIN_WINDOWS))

    model.eval()
    with torch.no_grad():
        # fp32: the model alone; bf16: each way of running it, the faster reported.
        cands = inference_candidates(name, model, bf16, torch)
        for b in args.infer_batches:
            x = torch.rand(b, 1, 28, 28, generator=gen)
            found = []
            for mode, run in cands:
                run(x)  # warm-up: oneDNN primitives are created per shape
                run(x)
                iters, secs = timed_loop(lambda: run(x), 3, args.min_seconds)
                found.append((iters * b / secs, iters, secs, mode))
            found.sort(reverse=True)
            value, iters, secs, mode = found[0]
            rec = dict(base, metric="infer_img_s", batch=b, value=value, batches=iters, seconds=secs)
            if mode:
                rec.update(mode=mode, other_value=found[1][0] if len(found) > 1 else None)
            emit(rec)

        x1 = torch.rand(1, 1, 28, 28, generator=gen)
        found = []
        for mode, run in cands:
            for _ in range(20):
                run(x1)
            times = []
            for _ in range(args.latency_n):
                t0 = time.perf_counter()
                run(x1)
                times.append(time.perf_counter() - t0)
            times.sort()
            found.append((times[len(times) // 2] * 1e6, mode, times))
        found.sort(key=lambda f: f[0])
        value, mode, times = found[0]
        rec = dict(base, metric="latency_us", batch=1, value=value,
                   samples=len(times), p10_us=times[len(times) // 10] * 1e6,
                   p90_us=times[len(times) * 9 // 10] * 1e6)
        if mode:
            rec.update(mode=mode, other_value=found[1][0] if len(found) > 1 else None)
        emit(rec)


def run_setting(setting, args):
    """In a fresh process with the setting's environment already applied."""
    threads, _ = SETTINGS[setting]
    import torch
    torch.set_num_threads(threads)
    env = {"side": "pytorch", "setting": setting, "threads": threads, "metric": "env",
           "torch": torch.__version__, "intra_op_threads": torch.get_num_threads(),
           "loadavg": round(os.getloadavg()[0], 2),
           "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", ""),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "")}
    if args.precision == "bf16":
        # bf16 convolutions and matmuls run in oneDNN (MKL-DNN) when torch has it.
        env.update(setting=setting + "_bf16", precision="bf16",
                   mkldnn=torch.backends.mkldnn.is_available())
    emit(env)
    for name in args.models:
        bench_model(name, setting, threads, args, torch)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--settings", default=",".join(SETTINGS))
    p.add_argument("--train-batches", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--infer-batches", default="32,100,1000")
    p.add_argument("--min-seconds", type=float, default=1.0,
                   help="least time per inference measurement")
    p.add_argument("--latency-n", type=int, default=1000)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 20 batches, 100 latency samples, 0.2 s per inference size")
    p.add_argument("--bf16", action="store_true",
                   help="after the fp32 figures, the same in PyTorch's bf16 mixed precision")
    p.add_argument("--bf16-only", action="store_true", help="the bf16 figures alone")
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.train_batches, args.warmup, args.latency_n, args.min_seconds = 20, 3, 100, 0.2
    args.models = [m for m in args.models.split(",") if m]
    args.settings = [s for s in args.settings.split(",") if s]
    args.infer_batches = [int(b) for b in args.infer_batches.split(",") if b]
    for m in args.models:
        if m not in MODELS:
            p.error("unknown model %r (known: %s)" % (m, ", ".join(MODELS)))
    for s in args.settings:
        if s not in SETTINGS:
            p.error("unknown setting %r (known: %s)" % (s, ", ".join(SETTINGS)))

    if args.in_process:
        run_setting(args.settings[0], args)
        return 0

    # Every setting in fp32, then (--bf16) every setting again in bf16.
    precisions = ["bf16"] if args.bf16_only else ["fp32", "bf16"] if args.bf16 else ["fp32"]
    status = 0
    for prec, s in [(prec, s) for prec in precisions for s in args.settings]:
        env = dict(os.environ)
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.pop(k, None)
        env.update(SETTINGS[s][1])
        cmd = [sys.executable, os.path.abspath(__file__), "--in-process", "--settings", s,
               "--models", ",".join(args.models), "--train-batches", str(args.train_batches),
               "--warmup", str(args.warmup), "--infer-batches",
               ",".join(str(b) for b in args.infer_batches),
               "--min-seconds", str(args.min_seconds), "--latency-n", str(args.latency_n),
               "--precision", prec]
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            print("torch_bench: setting %s (%s) failed with status %d" % (s, prec, rc), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
