#!/usr/bin/python3
"""PyTorch side of bench/mpi.sh: training throughput of one zoo model in one
process and in DistributedDataParallel over `--world` processes.

Both train the model torch_bench.py builds (Keras conventions, Adam) on a
global batch of `--batch` random images (data generation is not timed):
  --mode single: one process, torch.set_num_threads(--threads);
  --mode ddp:    --world processes (torch.multiprocessing), gloo backend on
                 127.0.0.1, each with --threads intra-op threads and
                 batch / world images; DDP all-reduces the gradients in
                 buckets during the backward pass. Batch norm is per process
                 (PyTorch's SyncBatchNorm needs CUDA), so unlike cnist this
                 is not the one-process computation.
Each measures the best of three windows of --steps steps after --warmup
steps and prints one JSON line: {"side": "pytorch", "mode", "model",
"world", "threads", "batch", "img_s"}.

usage: bench/torch_ddp.py --model lenet [--mode single|ddp] [--world 2]
       [--threads 1] [--batch 32] [--steps 200] [--warmup 20]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (the zoo models, built once for both benchmarks)

WINDOWS = 3


def train_rate(model, opt, images, step_hook, args, torch):
    """Images per second (global) of the best of WINDOWS windows."""
    gen = torch.Generator().manual_seed(1)
    xs = [torch.rand(images, 1, 28, 28, generator=gen) for _ in range(8)]
    ys = [torch.randint(0, 10, (images,), generator=gen) for _ in range(8)]
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i % 8]), ys[i % 8])
        loss.backward()
        opt.step()
        loss.item()

    for i in range(args.warmup):
        step(i)
    best = 0.0
    for _ in range(WINDOWS):
        step_hook()
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(i)
        step_hook()
        best = max(best, args.steps * args.batch / (time.perf_counter() - t0))
    return best


def ddp_worker(rank, args, port):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.world)
    torch.manual_seed(0)  # every rank builds the same weights; DDP also broadcasts rank 0's
    model = torch.nn.parallel.DistributedDataParallel(torch_bench.build(args.model, torch))
    opt = torch_bench.make_optimizer(args.model, model, torch)
    rate = train_rate(model, opt, args.batch // args.world, dist.barrier, args, torch)
    if rank == 0:
        emit(args, rate)
    dist.destroy_process_group()


def emit(args, rate):
    print(json.dumps({"side": "pytorch", "mode": args.mode, "model": args.model,
                      "world": args.world if args.mode == "ddp" else 1, "threads": args.threads,
                      "batch": args.batch, "img_s": round(rate, 1)}), flush=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=torch_bench.MODELS)
    p.add_argument("--mode", choices=["single", "ddp"], default="ddp")
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    args = p.parse_args()
    if args.batch % args.world:
        p.error("--batch must be a multiple of --world")
    import torch
    if args.mode == "single":
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        model = torch_bench.build(args.model, torch)
        opt = torch_bench.make_optimizer(args.model, model, torch)
        emit(args, train_rate(model, opt, args.batch, lambda: None, args, torch))
    else:
        torch.multiprocessing.spawn(ddp_worker, args=(args, free_port()), nprocs=args.world)


if __name__ == "__main__":
    main()
