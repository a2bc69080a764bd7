#!/usr/bin/python3
"""Turns the benchmark's JSON lines (written by bench/run.sh into
<build>/bench-results/) into the Markdown results table. Standard library
only.

usage: bench/table.py --raw DIR [--command C] [--machine M] [--cores N]
                      [--date D] [--load L]
"""
import argparse
import json
import os
import sys

MODELS = ["mlp", "lenet", "custom1", "custom2", "cnn_bn"]
CONV_MODELS = ["lenet", "custom1", "custom2", "cnn_bn"]
# The targets of issue 7: cnist / best PyTorch, each side at its best setting.
TRAIN_TARGET = {"mlp": 2.0, "lenet": 3.0, "cnn_bn": 3.0, "custom1": 1.5, "custom2": 1.2}
INFER_TARGET = {"mlp": 1.5, "lenet": 2.0, "custom1": 2.0, "custom2": 2.0, "cnn_bn": 2.0}
LATENCY_TARGET_US = {"lenet": 20.0}
E2E_TARGET = 3.0          # PyTorch wall time / cnist wall time
RSS_TARGET_MB = 300.0


def load(path):
    records = []
    if not os.path.exists(path):
        return records
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                records.append(json.loads(line))
            except ValueError as e:
                print("table.py: %s:%d: not JSON (%s)" % (path, n, e), file=sys.stderr)
    return records


def fmt_int(v):
    return "{:,.0f}".format(v)


def fmt_ratio(r):
    return "%.2f×" % r


def is_bf16(r):
    """A record of a bf16 run (cnist's bf16 option or PyTorch's autocast):
    "precision": "bf16", or a setting named *_bf16 should the field be missing."""
    return r.get("precision") == "bf16" or str(r.get("setting", "")).endswith("_bf16")


def met(ratio, target):
    if ratio is None:
        return "—"
    return "yes" if ratio >= target else "**no**"


class Side:
    """Figures of one side (cnist or pytorch) in one precision, indexed by
    model: fp32 (the default: records without "precision" or with "fp32")
    or bf16. The two never mix, so no bf16 figure reaches the fp32 tables."""

    def __init__(self, records, side, bf16=False):
        self.records = [r for r in records if r.get("side") == side and is_bf16(r) == bf16]
        self.arch = {}
        for r in self.records:
            if r.get("metric") == "arch":
                self.arch.setdefault(r["model"], r)

    def measurements(self, model, metric):
        return [r for r in self.records if r.get("model") == model and r.get("metric") == metric]

    def best(self, model, metric, lowest=False):
        rs = self.measurements(model, metric)
        if not rs:
            return None
        return (min if lowest else max)(rs, key=lambda r: r["value"])

    def settings(self):
        seen = []
        for r in self.records:
            s = r.get("setting")
            if s and s not in seen and r.get("metric") not in ("peak_gflops",):
                seen.append(s)
        return seen

    def value(self, model, metric, setting, batch=None):
        for r in self.measurements(model, metric):
            if r.get("setting") == setting and (batch is None or r.get("batch") == batch):
                return r["value"]
        return None


def speed_table(out, cn, pt, metric, title, targets, label):
    out.append("## " + title)
    out.append("")
    out.append("| model | cnist | PyTorch | ratio | target | met |")
    out.append("|---|---:|---:|---:|---:|:--:|")
    for m in MODELS:
        c, p = cn.best(m, metric), pt.best(m, metric)
        if c is None and p is None:
            continue
        ratio = c["value"] / p["value"] if c and p else None
        out.append("| %s | %s | %s | %s | ≥ %s | %s |" % (
            m, label(c), label(p), fmt_ratio(ratio) if ratio else "—",
            fmt_ratio(targets[m]), met(ratio, targets[m])))
    out.append("")


def measurement_rows(out, cn, pt):
    """The rows of an "every measurement" table: per model, side and setting.
    A PyTorch bf16 figure from the model cast to bf16 is marked *w*."""
    for m in MODELS:
        for name, side in (("cnist", cn), ("PyTorch", pt)):
            for s in side.settings():
                t = side.value(m, "train_img_s", s)
                if t is None and side.value(m, "infer_img_s", s) is None:
                    continue
                cells = [fmt_int(t) if t is not None else "—"]
                tr = next((r for r in side.measurements(m, "train_img_s") if r.get("setting") == s), {})
                cells.append("%.2f" % (tr["cpu_s"] / tr["seconds"]) if tr.get("cpu_s") else "—")
                for b in (32, 100, 1000):
                    r = next((r for r in side.measurements(m, "infer_img_s")
                              if r.get("setting") == s and r.get("batch") == b), None)
                    cells.append(fmt_int(r["value"]) + (" *w*" if r.get("mode") == "bf16_weights" else "")
                                 if r else "—")
                r = next((r for r in side.measurements(m, "latency_us") if r.get("setting") == s), None)
                cells.append("%.1f" % r["value"] + (" *w*" if r.get("mode") == "bf16_weights" else "")
                             if r else "—")
                out.append("| %s | %s | %s | %s |" % (m, name, s, " | ".join(cells)))


def best_of(*rs, lowest=False):
    """The best of records that may be None (the lowest value for latency)."""
    rs = [r for r in rs if r]
    if not rs:
        return None
    return (min if lowest else max)(rs, key=lambda r: r["value"])


def ratio_range(rs):
    return "%.2f–%.2f×" % (min(rs), max(rs)) if len(rs) > 1 else fmt_ratio(rs[0])


def bf16_summary(cn, pt, cn16, pt16):
    """The bf16 option in one line (for the README summary), or None when
    cnist has no bf16 figures: cnist bf16 / PyTorch's best in either precision."""
    if not cn16.records:
        return None
    train, infer = [], []
    for m in MODELS:
        for metric, ratios in (("train_img_s", train), ("infer_img_s", infer)):
            c, p = cn16.best(m, metric), best_of(pt.best(m, metric), pt16.best(m, metric))
            if c and p:
                ratios.append(c["value"] / p["value"])
    if not train and not infer:
        return None
    against = "PyTorch's best of fp32 and bf16" if pt16.records else "PyTorch fp32 (PyTorch bf16 not measured)"
    parts = ["%s %s" % (what, ratio_range(rs)) for what, rs in (("training", train), ("inference", infer)) if rs]
    return ("bf16 option (not the default; its own section in `bench/results.md`): cnist bf16 / %s, "
            "over the models: %s." % (against, ", ".join(parts)))


def bf16_section(out, cn, pt, cn16, pt16):
    """cnist's bf16 option against PyTorch's best fp32 and PyTorch's own bf16
    (autocast), each side at its best setting; omitted when neither side ran
    bf16."""
    if not cn16.records and not pt16.records:
        return
    out.append("## bf16 option (not the default)")
    out.append("")
    out.append("cnist's bf16 option rounds GEMM operands to bfloat16 and accumulates in fp32, everything "
               "else in fp32 (settings `t1_bf16`/`t2_bf16`). PyTorch bf16 (`*_bf16` settings) trains with "
               "`torch.autocast(\"cpu\", dtype=torch.bfloat16)` around forward and loss, Adam on fp32 "
               "weights; its inference is the faster of autocast and the model cast to bf16 (*w* below). "
               "Ratios are cnist bf16 / PyTorch, against PyTorch's best fp32 (the default tables' "
               "figure) and PyTorch's best bf16; \"vs cnist fp32\" is cnist bf16 / cnist's best fp32.")
    if not cn16.records:
        out.append("")
        out.append("cnist: no bf16 figures in this run.")
    if not pt16.records:
        out.append("")
        out.append("PyTorch: no bf16 figures in this run (`bench/torch_bench.py --bf16` measures them).")
    loads = ["%s %s %.2f" % ("cnist" if side is cn16 else "PyTorch", r.get("setting", "bf16"), r["loadavg"])
             for side in (cn16, pt16) for r in side.records if r.get("metric") == "env" and "loadavg" in r]
    if loads:
        out.append("")
        out.append("1-minute load average as each bf16 part began: %s." % ", ".join(loads))
    out.append("")

    def lab_speed(r):
        if not r:
            return "—"
        b = ", b%d" % r["batch"] if r.get("metric") == "infer_img_s" else ""
        w = ", *w*" if r.get("mode") == "bf16_weights" else ""
        return "%s (%s%s%s)" % (fmt_int(r["value"]), r["setting"], b, w)

    def lab_lat(r):
        if not r:
            return "—"
        return "%.1f (%s%s)" % (r["value"], r["setting"], ", *w*" if r.get("mode") == "bf16_weights" else "")

    def ratio(a, b, inverse=False):
        if not (a and b):
            return "—"
        return fmt_ratio(b["value"] / a["value"] if inverse else a["value"] / b["value"])

    for metric, title, lowest, lab in (
            ("train_img_s", "Training (images/s, batch 32)", False, lab_speed),
            ("infer_img_s", "Inference (images/s, best batch of 32, 100, 1000)", False, lab_speed),
            ("latency_us", "Single-image latency (µs, median; ratios are speed-ups)", True, lab_lat)):
        out.append("**%s**" % title)
        out.append("")
        out.append("| model | cnist bf16 | vs cnist fp32 | PyTorch fp32 | ratio | PyTorch bf16 | ratio |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for m in MODELS:
            c16, c32 = cn16.best(m, metric, lowest), cn.best(m, metric, lowest)
            p32, p16 = pt.best(m, metric, lowest), pt16.best(m, metric, lowest)
            if not (c16 or p16):
                continue
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                m, lab(c16), ratio(c16, c32, lowest), lab(p32), ratio(c16, p32, lowest),
                lab(p16), ratio(c16, p16, lowest)))
        out.append("")

    out.append("Every bf16 measurement (columns as in “Every measurement” below):")
    out.append("")
    out.append("| model | side | setting | train img/s | train CPU | infer b32 | infer b100 | infer b1000 | latency µs |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
    measurement_rows(out, cn16, pt16)
    out.append("")


def main():
    ap = argparse.ArgumentParser(description="Markdown table from the benchmark's JSON lines")
    ap.add_argument("--raw", required=True)
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--machine", default="unknown CPU")
    ap.add_argument("--cores", default="?")
    ap.add_argument("--date", default="")
    ap.add_argument("--load", default="")
    a = ap.parse_args()

    records = load(os.path.join(a.raw, "cnist.jsonl")) + load(os.path.join(a.raw, "torch.jsonl"))
    e2e = load(os.path.join(a.raw, "e2e.jsonl"))
    notes = []
    if os.path.exists(os.path.join(a.raw, "notes.txt")):
        with open(os.path.join(a.raw, "notes.txt")) as f:
            notes = [l.strip() for l in f if l.strip()]
    cn, pt = Side(records, "cnist"), Side(records, "pytorch")
    cn16, pt16 = Side(records, "cnist", bf16=True), Side(records, "pytorch", bf16=True)
    peak = {r["threads"]: r["value"] for r in cn.records if r.get("metric") == "peak_gflops"}
    torch_env = next((r for r in pt.records + pt16.records if r.get("metric") == "env"), None)

    out = ["# cnist vs PyTorch on this machine", ""]
    out.append("Generated on %s by `%s` (`cmake --build build --target bench` runs the full benchmark)." % (
        a.date, a.command))
    out.append("Machine: %s, %s cores (load average when the run began: %s)." % (a.machine, a.cores, a.load))
    out.append("PyTorch: %s." % ("%s (Debian python3-torch)" % torch_env["torch"] if torch_env else "not measured"))
    loads = ["cnist %.2f" % r["loadavg"] for r in cn.records if r.get("metric") == "env" and "loadavg" in r]
    loads += ["PyTorch %s %.2f" % (r["setting"], r["loadavg"]) for r in pt.records
              if r.get("metric") == "env" and "loadavg" in r]
    if loads:
        out.append("1-minute load average as each part began: %s (%s cores: above that, other work "
                   "shared the cores and the figures are low and noisy)." % (", ".join(loads), a.cores))
    out.append("")
    out.append("Ratios are cnist speed / PyTorch speed (above 1: cnist is faster), each side at its "
               "best setting, shown in brackets: cnist `t1`/`t2` = 1/2 threads; PyTorch `t1` = "
               "`torch.set_num_threads(1)`, `t2` = `torch.set_num_threads(2)`, `t2_blas1` = 2 intra-op "
               "threads with `OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1`. Inputs are random: throughput "
               "does not depend on the pixel values.")
    out.append("")
    # One line on the bf16 option here, where run.sh's README summary takes it.
    line = bf16_summary(cn, pt, cn16, pt16)
    if line:
        out.append(line)
        out.append("")

    def train_label(r):
        return "%s (%s)" % (fmt_int(r["value"]), r["setting"]) if r else "—"

    def infer_label(r):
        return "%s (%s, b%d)" % (fmt_int(r["value"]), r["setting"], r["batch"]) if r else "—"

    speed_table(out, cn, pt, "train_img_s",
                "Training throughput (images/s; batch 32: forward, loss, backward, Adam step)",
                TRAIN_TARGET, train_label)
    speed_table(out, cn, pt, "infer_img_s",
                "Inference throughput (images/s; each side at its best batch of 32, 100, 1000)",
                INFER_TARGET, infer_label)

    out.append("## Single-image latency (µs, median of %s calls)" % (
        next((r.get("samples") for r in cn.records + pt.records if r.get("metric") == "latency_us"), "?")))
    out.append("")
    out.append("| model | cnist | PyTorch | speed-up | target | met |")
    out.append("|---|---:|---:|---:|---:|:--:|")
    for m in MODELS:
        c, p = cn.best(m, "latency_us", lowest=True), pt.best(m, "latency_us", lowest=True)
        if c is None and p is None:
            continue
        ratio = p["value"] / c["value"] if c and p else None
        lab = lambda r: "%.1f (%s)" % (r["value"], r["setting"]) if r else "—"
        if m in LATENCY_TARGET_US:
            target = "≤ %.0f µs" % LATENCY_TARGET_US[m]
            ok = "—" if c is None else ("yes" if c["value"] <= LATENCY_TARGET_US[m] else "**no**")
        else:
            target, ok = "", ""
        out.append("| %s | %s | %s | %s | %s | %s |" % (m, lab(c), lab(p), fmt_ratio(ratio) if ratio else "—",
                                                       target, ok))
    out.append("")

    out.append("## Arithmetic rate in training (GFLOP/s = 6 × forward MACs per image × images/s)")
    out.append("")
    if peak:
        out.append("fp32 peak measured with a 2048³ `cblas_sgemm` (OpenBLAS): %s." % ", ".join(
            "%.1f GFLOP/s with %d thread%s" % (v, t, "" if t == 1 else "s") for t, v in sorted(peak.items())))
        out.append("Each side's percentage is of the peak at the thread count it ran with.")
    over = []
    for m in MODELS:
        p = pt.arch.get(m)
        if p and p.get("first_layer_macs"):
            done = 6.0 * p["macs_per_image"] - 2.0 * p["first_layer_macs"]
            factor = 6.0 * p["macs_per_image"] / done
            if factor > 1.05:
                over.append("%s by %.2f×" % (m, factor))
    if over:
        out.append("6 × MACs counts the first layer's input gradient, which neither side computes; "
                   "it overstates the arithmetic done for " + ", ".join(over) + ".")
    out.append("These are direct-convolution MACs on both sides: cnist takes fp32 3x3 convolutions with 8 "
               "or more channels through Winograd's F(4x4, 3x3), which multiplies 3 to 4 times less for the "
               "same outputs, so its figure for custom1, custom2 and cnn_bn is an effective rate and may "
               "pass the peak.")
    out.append("")
    out.append("| model | forward MACs/image | cnist GFLOP/s | cnist % of peak | PyTorch GFLOP/s | PyTorch % of peak |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for m in MODELS:
        arch = cn.arch.get(m) or pt.arch.get(m)
        if not arch:
            continue
        cells = []
        for side in (cn, pt):
            r = side.best(m, "train_img_s")
            macs = (side.arch.get(m) or arch)["macs_per_image"]
            if r is None:
                cells += ["—", "—"]
                continue
            gflops = 6.0 * macs * r["value"] * 1e-9
            pk = peak.get(r["threads"])
            cells += ["%.1f (%s)" % (gflops, r["setting"]), "%.0f%%" % (100 * gflops / pk) if pk else "—"]
        out.append("| %s | %s | %s |" % (m, fmt_int(arch["macs_per_image"]), " | ".join(cells)))
    out.append("")

    by = {(r.get("side"), r.get("metric")): r for r in e2e}
    walls = {side: [r for r in e2e if r.get("side") == side and r.get("metric") == "e2e_wall"]
             for side in ("cnist", "pytorch")}
    fastest = {side: min(rows, key=lambda r: r["wall_s"]) if rows else None for side, rows in walls.items()}
    c_wall, p_wall = fastest["cnist"], fastest["pytorch"]
    p_run = by.get(("pytorch", "e2e"))
    c_metrics = None
    if c_wall and c_wall.get("run_dir"):
        try:
            with open(os.path.join(c_wall["run_dir"], "metrics.json")) as f:
                c_metrics = json.load(f)
        except (OSError, ValueError):
            pass
    out.append("## End to end: `cnist train lenet --epochs 1` vs `bench/torch_train_lenet.py`")
    out.append("")
    out.append("Start to finish (process start, data load, 85/15 split, one epoch of batch-32 Adam, "
               "evaluation of train, validation and test), wall time measured from outside the process.")
    runs = max(len(walls["cnist"]), len(walls["pytorch"]))
    if runs > 1:
        out.append("Each side ran %d times, taking turns; the table shows each side's fastest run "
                   "(all runs, s: cnist %s; PyTorch %s)." % (
                       runs, ", ".join("%.2f" % r["wall_s"] for r in walls["cnist"]) or "—",
                       ", ".join("%.2f" % r["wall_s"] for r in walls["pytorch"]) or "—"))
    out.append("")
    out.append("| | cnist | PyTorch | PyTorch / cnist | target | met |")
    out.append("|---|---:|---:|---:|---:|:--:|")
    if c_wall or p_wall:
        ratio = p_wall["wall_s"] / c_wall["wall_s"] if c_wall and p_wall else None
        out.append("| wall time (s) | %s | %s | %s | ≥ %s | %s |" % (
            "%.2f" % c_wall["wall_s"] if c_wall else "—", "%.2f" % p_wall["wall_s"] if p_wall else "—",
            fmt_ratio(ratio) if ratio else "—", fmt_ratio(E2E_TARGET), met(ratio, E2E_TARGET)))
        ca = c_metrics.get("test_accuracy") if c_metrics else None
        pa = p_run.get("test_accuracy") if p_run else None
        out.append("| test accuracy | %s | %s | | | |" % ("%.4f" % ca if ca is not None else "—",
                                                       "%.4f" % pa if pa is not None else "—"))
        out.append("| peak RSS (MB) | %s | %s | | | |" % (
            "%.0f" % (c_wall["maxrss_kb"] / 1024) if c_wall and c_wall.get("maxrss_kb") else "—",
            "%.0f" % (p_wall["maxrss_kb"] / 1024) if p_wall and p_wall.get("maxrss_kb") else "—"))
    else:
        out.append("| wall time (s) | — | — | — | ≥ %s | — |" % fmt_ratio(E2E_TARGET))
    out.append("")

    c_rss, p_rss = by.get(("cnist", "train_rss")), by.get(("pytorch", "train_rss"))
    out.append("## Peak memory while training custom2")
    out.append("")
    out.append("| | cnist | PyTorch | target | met |")
    out.append("|---|---:|---:|---:|:--:|")
    if c_rss or p_rss:
        cmb = c_rss["maxrss_kb"] / 1024 if c_rss else None
        pmb = p_rss["maxrss_kb"] / 1024 if p_rss else None
        out.append("| peak RSS (MB) | %s | %s | ≤ %.0f MB | %s |" % (
            "%.0f" % cmb if cmb else "—", "%.0f" % pmb if pmb else "—", RSS_TARGET_MB,
            "—" if not cmb else ("yes" if cmb <= RSS_TARGET_MB else "**no**")))
        for r in (c_rss, p_rss):
            if r:
                out.append("")
                out.append("%s: %s." % ("cnist" if r is c_rss else "PyTorch", r.get("how", "")))
    out.append("")

    out.append("## Same networks on both sides")
    out.append("")
    out.append("| model | params cnist | params PyTorch | MACs/image cnist | MACs/image PyTorch | same |")
    out.append("|---|---:|---:|---:|---:|:--:|")
    for m in MODELS:
        c, p = cn.arch.get(m), pt.arch.get(m)
        if not c and not p:
            continue
        same = "—" if not (c and p) else (
            "yes" if c["params"] == p["params"] and abs(c["macs_per_image"] - p["macs_per_image"]) <= 0.01 *
            p["macs_per_image"] else "**no**")
        g = lambda r, k: fmt_int(r[k]) if r else "—"
        out.append("| %s | %s | %s | %s | %s | %s |" % (m, g(c, "params"), g(p, "params"), g(c, "macs_per_image"),
                                                      g(p, "macs_per_image"), same))
    out.append("")

    bf16_section(out, cn, pt, cn16, pt16)

    out.append("## Every measurement")
    out.append("")
    out.append("Train CPU = CPU seconds / wall seconds while training: about the thread count when the threads "
               "ran, lower when they waited for cores held by other work.")
    out.append("")
    out.append("| model | side | setting | train img/s | train CPU | infer b32 | infer b100 | infer b1000 | latency µs |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
    measurement_rows(out, cn, pt)
    out.append("")

    if notes:
        out.append("## Notes")
        out.append("")
        out += ["- " + n for n in notes]
        out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
