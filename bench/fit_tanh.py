#!/usr/bin/python3
"""Where the constants of tanh_approx (src/engine/layers/activation.c) come from.

Fits tanh(x) = x P(x^2) / Q(x^2), P and Q of degree 4, Q(0) = 1, on [0, 9]
for the least maximum relative error (a linearised least-squares fit,
reweighted by Lawson's rule until the weights settle on the error's peaks),
prints the coefficients as floats, then evaluates the formula in float32
exactly as the C code does (same operations, same order, each rounded to
float) on every float in [0, 10] and prints the largest error in ulp
against tanh in double, rounded to float.

usage: /usr/bin/python3 bench/fit_tanh.py [--no-check]
"""
import sys

import numpy as np

DEG = 4
FIT_END = 9.0  # tanh(x) is 1 - 3e-8 at 9, 1 in float from about 9.01
CLAMP = 9.5  # where the fitted function is above 1, so the clamp to 1 gives 1
CHECK_END = 10.0


def fit():
    x = np.linspace(1e-4, FIT_END, 20000)
    z = x * x
    ratio = np.tanh(x) / x  # the target of P/Q as a function of z
    powers = np.vander(z, DEG + 1, increasing=True)
    q_prev = np.ones_like(z)
    weight = np.full_like(z, 1.0 / len(z))
    for _ in range(300):
        # P(z) - ratio * (Q(z) - 1) = ratio, scaled so the residual is relative
        a = np.hstack([powers, -ratio[:, None] * powers[:, 1:]])
        scale = np.sqrt(weight) / (ratio * q_prev)
        coef = np.linalg.lstsq(a * scale[:, None], ratio * scale, rcond=None)[0]
        p, q = coef[:DEG + 1], np.concatenate([[1.0], coef[DEG + 1:]])
        q_prev = np.polyval(q[::-1], z)
        err = np.abs(np.polyval(p[::-1], z) / q_prev / ratio - 1.0)
        weight = weight * err
        weight /= weight.sum()
    return p.astype(np.float32), q.astype(np.float32), err.max()


def tanh_float(x, p, q):
    """The C function, operation by operation, in float32."""
    x = np.clip(x, np.float32(-CLAMP), np.float32(CLAMP))
    z = x * x
    pz, qz = p[DEG], q[DEG]
    for k in range(DEG - 1, -1, -1):
        pz = pz * z + p[k]
        qz = qz * z + q[k]
    return np.clip(x * pz / qz, np.float32(-1), np.float32(1))


def check(p, q):
    """Largest error in ulp over every float in [0, 10] (tanh is odd and the
    formula is too, so the negative half gives the same errors)."""
    worst, at = 0, 0.0
    end = np.float32(CHECK_END).view(np.int32)
    step = 1 << 24
    for lo in range(0, int(end) + 1, step):
        bits = np.arange(lo, min(lo + step, int(end) + 1), dtype=np.int32)
        x = bits.view(np.float32)
        want = np.tanh(x.astype(np.float64)).astype(np.float32)
        got = tanh_float(x, p, q)
        ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
        i = int(ulps.argmax())
        if ulps[i] > worst:
            worst, at = int(ulps[i]), float(x[i])
    return worst, at


def main():
    p, q, err = fit()
    print("minimax relative error in double: %.3g" % err)
    print("P:", ", ".join("%.9g" % c for c in p))
    print("Q:", ", ".join("%.9g" % c for c in q))
    if "--no-check" not in sys.argv[1:]:
        worst, at = check(p, q)
        print("in float32 over every float in [0, 10]: at most %d ulp (at x = %.9g)" % (worst, at))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
