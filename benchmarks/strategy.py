"""Fit of the time model behind ``empirical_ntk(strategy="auto")`` (``python -m benchmarks --only strategy``).

For a random design of generic networks (MLPs of :mod:`ntkbook.mlp` passed as a plain ``apply_fn``, so
the layerwise strategy is out: widths, depth, input dimension, outputs, batch size, activation, dtype and
``x2`` drawn from fixed lists with a fixed seed), both generic strategies are timed (the fastest of their
warm calls, taken round-robin: :func:`benchmarks.common.timed_interleaved`) and XLA's FLOP and byte
counts of their programs are read (:func:`ntkbook.ntk.strategy_estimates`). For each strategy the model

    seconds = overhead + per_flop * flops * (itemsize / 4) + per_byte * bytes

is fitted by non-negative least squares on the relative error (each row divided by its measured time).
Reported: the coefficients (to copy into ``ntkbook._strategy.TIME_MODEL``), the spread of predicted over measured
time, and how often the model's choice is within 10% of the faster measured strategy -- on the fitted
cases, leave-one-out (each case predicted by a model fitted without it), and with the model now in the
library. Each case is skipped when either strategy's closed-form FLOPs exceed the budget.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import nnls

from ntkbook import mlp, ntk

from .common import fmt_time, table, timed_interleaved

GENERIC = ("jacobian", "products")
TERMS = ("overhead", "per_flop", "per_byte")


def design(n_cases: int = 48, seed: int = 0, flop_budget: float = 3e10) -> list[dict]:
    """``n_cases`` distinct cases drawn without replacement from the product of the lists below (seeded),
    every fourth in float64, keeping those whose closed-form FLOPs stay within ``flop_budget`` (half that in
    float64) for both strategies."""
    hidden = [
        (128,),
        (512,),
        (2048,),
        (64, 64),
        (256, 256),
        (1024, 1024),
        (128,) * 3,
        (256,) * 3,
        (512,) * 3,
        (64,) * 6,
    ]
    grid = list(itertools.product(hidden, (10, 100, 784), (1, 3, 10), (16, 64, 256), ("relu", "tanh"), (True, False)))
    order = np.random.default_rng(seed).permutation(len(grid))
    cases = []
    for i in order:
        h, n0, o, n, act, same = grid[i]
        dt = "float64" if len(cases) % 4 == 3 else "float32"  # every fourth case in float64
        widths = (n0, *h, o)
        P = mlp.num_params(widths)
        n2 = n if same else n // 2
        flops = max(ntk.strategy_cost(s, n1=n, n2=n2, n_out=o, num_params=P)["flops"] for s in GENERIC)
        if flops > flop_budget * (0.5 if dt == "float64" else 1.0):
            continue
        cases.append(dict(widths=widths, n=n, n2=n2, same=same, activation=act, dtype=dt))
        if len(cases) == n_cases:
            break
    return cases


def measure(cases: list[dict], *, repeats: int = 3, log=print) -> list[dict]:
    rows = []
    for c in cases:
        dtype = jnp.dtype(c["dtype"])
        params = mlp.init(jax.random.key(1), c["widths"], dtype=dtype)
        x1 = jax.random.normal(jax.random.key(2), (c["n"], c["widths"][0]), dtype)
        x2 = None if c["same"] else jax.random.normal(jax.random.key(3), (c["n2"], c["widths"][0]), dtype)
        act = c["activation"]
        fn = lambda p, x, act=act: mlp.apply(p, x, activation=act, beta=0.1)  # noqa: E731
        est = ntk.strategy_estimates(fn, params, x1, x2)
        batches = f"N={c['n']}" if c["same"] else f"N={c['n']}x{c['n2']}"
        label = f"{'-'.join(map(str, c['widths']))} {act} {batches} {c['dtype']}"
        row = dict(c, widths=list(c["widths"]), case=label, itemsize=dtype.itemsize)
        timings = timed_interleaved(
            {s: (lambda s=s: ntk.empirical_ntk(fn, params, x1, x2, strategy=s)) for s in GENERIC}, repeats=repeats
        )
        for s in GENERIC:
            # the fastest of the interleaved calls: load from elsewhere only ever adds time (as in benchmarks.empirical)
            row[s] = dict(
                time=timings[s]["min"], median=timings[s]["median"], flops=est[s]["flops"], bytes=est[s]["bytes"]
            )
        rows.append(row)
        log(
            f"  strategy fit {label:44s} jacobian {fmt_time(row['jacobian']['time']):>9s}  products {fmt_time(row['products']['time']):>9s}"
        )
    return rows


def _features(row: dict, s: str) -> np.ndarray:
    r = row[s]
    return np.array([1.0, r["flops"] * row["itemsize"] / 4, r["bytes"]])


def fit(rows: list[dict]) -> dict:
    """Non-negative least squares of each strategy's time on (1, flops * itemsize / 4, bytes), rows weighted
    by 1 / measured time (so the relative error is what is minimised)."""
    model = {}
    for s in GENERIC:
        A = np.array([_features(r, s) / r[s]["time"] for r in rows])
        scale = np.abs(A).max(axis=0)
        scale[scale == 0] = 1.0
        coef, _ = nnls(A / scale, np.ones(len(rows)))
        model[s] = {k: float(v) for k, v in zip(TERMS, coef / scale)}
    return model


def predict(model: dict, row: dict, s: str) -> float:
    return float(np.dot([model[s][k] for k in TERMS], _features(row, s)))


def judge(model: dict, row: dict) -> dict:
    pred = {s: predict(model, row, s) for s in GENERIC}
    picked = min(pred, key=pred.get)
    meas = {s: row[s]["time"] for s in GENERIC}
    best = min(meas, key=meas.get)
    return dict(
        picked=picked, best=best, ok=meas[picked] <= 1.1 * meas[best], ratio={s: pred[s] / meas[s] for s in GENERIC}
    )


def evaluate(rows: list[dict]) -> dict:
    model = fit(rows)
    fitted = [judge(model, r) for r in rows]
    loo = [judge(fit(rows[:i] + rows[i + 1 :]), r) for i, r in enumerate(rows)]
    library = [judge(ntk.TIME_MODEL, r) for r in rows]
    ratios = {s: np.array([j["ratio"][s] for j in fitted]) for s in GENERIC}
    return dict(
        model=model,
        fitted=fitted,
        loo=loo,
        library=library,
        spread={s: (float(np.min(v)), float(np.median(v)), float(np.max(v))) for s, v in ratios.items()},
    )


def report(rows: list[dict], ev: dict) -> str:
    n = len(rows)
    count = lambda js: sum(j["ok"] for j in js)  # noqa: E731
    lines = [
        "## Time model of the automatic strategy",
        "",
        f"{n} generic cases (design seed 0); each strategy timed by the fastest of its warm calls, taken round-robin; "
        "FLOPs and bytes from XLA's cost analysis.",
        "",
        table(
            [
                dict(
                    s=s,
                    **{k: f"{ev['model'][s][k]:.3g}" for k in TERMS},
                    spread=" / ".join(f"{v:.2f}" for v in ev["spread"][s]),
                )
                for s in GENERIC
            ],
            [
                ("s", "strategy"),
                ("overhead", "overhead (s)"),
                ("per_flop", "s per float32 FLOP"),
                ("per_byte", "s per byte"),
                ("spread", "predicted / measured: min / median / max"),
            ],
        ),
        "",
        f"Choice within 10% of the faster measured strategy: fitted {count(ev['fitted'])} of {n}, "
        f"leave-one-out {count(ev['loo'])} of {n}, the library's TIME_MODEL {count(ev['library'])} of {n}.",
        "",
        table(
            [
                dict(
                    case=r["case"],
                    j=fmt_time(r["jacobian"]["time"]),
                    p=fmt_time(r["products"]["time"]),
                    pick=f"{j['picked']}{'' if j['ok'] else ' -- MISSED'}",
                )
                for r, j in zip(rows, ev["loo"])
            ],
            [("case", "case"), ("j", "jacobian"), ("p", "products"), ("pick", "leave-one-out choice")],
        ),
    ]
    return "\n".join(lines)


def run(*, n_cases: int = 48, repeats: int = 3, log=print) -> dict:
    rows = measure(design(n_cases), repeats=repeats, log=log)
    ev = evaluate(rows)
    return dict(rows=rows, evaluation=ev, markdown=report(rows, ev))
