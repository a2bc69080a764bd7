#!/usr/bin/python3
"""Where one speedrun's time goes: runs `cnist train RECIPE --no-train-eval`
(what `cnist speedrun` times) under strace and splits its wall time by the
file events every run makes, in order:

  start-up      execve to opening the first IDX file (loader, libraries,
                the model file parsed, the thread pool)
  data read     the four IDX files opened, read and checked
  set-up        the model built and initialised, the run folder created
                (lock, model.model, config.json, history.csv, the first
                last.safetensors)
  training      the recipe's epochs, to the first epoch-end file
  checkpoints   the epoch-end files (best.safetensors, history.csv,
                last.safetensors)
  evaluation    best.safetensors read back, the test set evaluated,
                test_probs.bin and metrics.json written
  exit          to exit_group

strace adds a little time to each traced call (file calls only here).
Prints a Markdown table and, unless --no-write, puts it between the
<!-- phases:begin --> and <!-- phases:end --> lines of docs/benchmarks.md.

usage: bench/speedrun_phases.py [--build DIR] [--recipe fast] [--seed 1] [--no-write]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EVENT = re.compile(r'^\d+\s+(\d+\.\d+) (\w+)\((?:AT_FDCWD, )?"?([^",)]*)')


def events(trace):
    """(time, call, path) of the traced calls, in order."""
    out = []
    for line in open(trace):
        m = EVENT.match(line)
        if m:
            out.append((float(m.group(1)), m.group(2), m.group(3)))
    return out


def first(evs, test, start=0):
    for i in range(start, len(evs)):
        if test(evs[i]):
            return i
    sys.exit("bench/speedrun_phases.py: the trace lacks an expected event (see the trace file)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--recipe", default="fast")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    cnist = os.path.join(args.build, "cnist")
    if not os.access(cnist, os.X_OK):
        sys.exit("bench/speedrun_phases.py: %s: not built" % cnist)
    if not shutil.which("strace"):
        sys.exit("bench/speedrun_phases.py: no strace (apt-get install strace)")
    work = tempfile.mkdtemp(prefix="cnist-phases-")
    run, trace = os.path.join(work, "run"), os.path.join(work, "trace.txt")
    cmd = [cnist, "train", args.recipe, "--seed", str(args.seed), "--run-dir", run, "--quiet", "--no-train-eval"]
    load = os.getloadavg()[0]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    subprocess.run(["strace", "-f", "-ttt", "-e", "trace=execve,openat,close,rename,exit_group", "-o", trace] + cmd,
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    evs = events(trace)
    idx = lambda e: "-idx" in os.path.basename(e[2])
    start = evs[first(evs, lambda e: e[1] == "execve")][0]
    data_open = first(evs, lambda e: e[1] == "openat" and idx(e))
    last_idx = max(i for i, e in enumerate(evs) if e[1] == "openat" and idx(e))
    data_end = first(evs, lambda e: e[1] == "close", last_idx)
    setup_end = first(evs, lambda e: e[1] == "rename" and "last.safetensors" in e[2], data_end)
    train_end = first(evs, lambda e: e[1] == "openat" and "best.safetensors.tmp" in e[2], setup_end)
    eval_start = first(evs, lambda e: e[1] == "openat" and e[2].endswith("/best.safetensors"), train_end)
    eval_end = first(evs, lambda e: e[1] == "rename" and "metrics.json" in e[2], eval_start)
    end = first(evs, lambda e: e[1] == "exit_group", eval_end)
    t = lambda i: evs[i][0]
    phases = [("start-up", start, t(data_open)), ("data read", t(data_open), t(data_end)),
              ("set-up", t(data_end), t(setup_end)), ("training", t(setup_end), t(train_end)),
              ("checkpoints", t(train_end), t(eval_start)), ("evaluation", t(eval_start), t(eval_end)),
              ("exit", t(eval_end), t(end))]
    total = t(end) - start
    lines = ["`python3 bench/speedrun_phases.py --recipe %s --seed %d` (%s, %s, %d cores, 1-minute load %.2f at the start): "
             "`cnist %s` under strace, split by its file events; %.2f s in all." % (
                 args.recipe, args.seed, started, cpu, os.cpu_count(), load, " ".join(cmd[1:]).replace(run, "DIR"), total),
             "", "| phase | seconds | share |", "|---|---:|---:|"]
    lines += ["| %s | %.3f | %.1f%% |" % (name, b - a, 100 * (b - a) / total) for name, a, b in phases]
    table = "\n".join(lines)
    print(table)
    shutil.rmtree(work)
    if not args.no_write:
        path = os.path.join(ROOT, "docs", "benchmarks.md")
        text = open(path).read()
        new = "<!-- phases:begin -->\n" + table + "\n<!-- phases:end -->"
        text, n = re.subn(r"<!-- phases:begin -->.*?<!-- phases:end -->", lambda _: new, text, flags=re.S)
        if n != 1:
            sys.exit(path + ": no <!-- phases:begin --> ... <!-- phases:end --> block")
        open(path, "w").write(text)


if __name__ == "__main__":
    main()
