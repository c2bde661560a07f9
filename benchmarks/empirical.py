"""Empirical NTK: Jacobian contraction vs NTK-vector products vs the layerwise (structured) strategy.

For an MLP of :mod:`ntkbook.mlp` (ReLU, β = 0.1) with ``widths = (n_0, n, ..., n, n_L)`` the full
kernel ``(N, N, n_L, n_L)`` of a batch with itself is computed by every strategy of
:func:`ntkbook.ntk.empirical_ntk`, and by ``strategy="auto"`` twice: with ``mlp_config`` (the library
may use the network's structure) and without it (a generic ``apply_fn``: Jacobian contraction or
products). FLOPs come from :func:`ntkbook.ntk.strategy_cost` (leading order); the achieved FLOP/s is
compared with the BLAS product measured in the same run. A strategy whose estimated cost exceeds the
FLOP budget (float64 FLOPs counted twice), or whose Jacobians exceed the memory budget, is skipped (and
said so). The strategies of a case are timed round-robin (:func:`benchmarks.common.timed_interleaved`).
The check: the strategy the automatic choice picks within 10% of the fastest strategy it could have
chosen, each timed by the fastest of its interleaved calls; the choice is "contested" where two or more of
its candidates were measured.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ntkbook import mlp, ntk

from .common import fmt_time, timed, timed_interleaved

STRATEGIES = ("jacobian", "products", "layerwise")
CONFIG = dict(activation="relu", beta=0.1)


def default_grid() -> list[dict]:
    g = [dict(widths=(100, 512, 512, 512, 1), n=256, dtype="float32")]  # the target case
    for w in (128, 2048):
        g.append(dict(widths=(100, w, w, w, 1), n=256, dtype="float32"))
    for n in (64, 1024):
        g.append(dict(widths=(100, 512, 512, 512, 1), n=n, dtype="float32"))
    g.append(dict(widths=(100, 512, 512, 512, 10), n=256, dtype="float32"))
    g.append(dict(widths=(100, 512, 1), n=256, dtype="float32"))
    g.append(dict(widths=(100,) + (512,) * 5 + (1,), n=256, dtype="float32"))
    g.append(dict(widths=(100, 512, 512, 512, 1), n=256, dtype="float64"))
    return g


def full_grid() -> list[dict]:
    g = []
    for w in (128, 512, 1024, 4096):
        for depth in (2, 4, 6):
            for n in (64, 256, 1024):
                for o in (1, 10):
                    g.append(dict(widths=(100,) + (w,) * (depth - 1) + (o,), n=n, dtype="float32"))
    return g


def run(
    grid: list[dict],
    *,
    matmul: dict,
    flop_budget: float = 2e11,
    memory_budget: float = 2**31,
    repeats: int = 5,
    log=print,
) -> list[dict]:
    rows = []
    for case in grid:
        widths, n, dt = tuple(case["widths"]), case["n"], case["dtype"]
        dtype = jnp.dtype(dt)
        params = mlp.init(jax.random.key(1), widths, dtype=dtype)
        x = jax.random.normal(jax.random.key(2), (n, widths[0]), dtype)
        P = sum(int(np.size(p)) for p in jax.tree_util.tree_leaves(params))
        o = widths[-1]
        apply_fn = lambda p, x: mlp.apply(p, x, **CONFIG)  # noqa: E731
        label = f"{'-'.join(map(str, widths))} N={n} {dt}"
        costs, runnable = {}, {}
        for s in STRATEGIES:
            cost = ntk.strategy_cost(s, n1=n, n2=n, n_out=o, num_params=P, widths=widths)
            costs[s] = cost
            if cost["flops"] * dtype.itemsize / 4 > flop_budget or cost["memory"] * dtype.itemsize > memory_budget:
                rows.append(
                    dict(
                        case=label,
                        strategy=s,
                        flops=cost["flops"],
                        time=None,
                        note=f"skipped: {cost['flops']:.1e} FLOPs, {cost['memory'] * dtype.itemsize / 2**30:.1f} GiB",
                    )
                )
                log(f"  empirical {label:34s} {s:16s} skipped")
                continue
            kw = dict(mlp_config=CONFIG) if s == "layerwise" else {}
            runnable[s] = lambda s=s, kw=kw: ntk.empirical_ntk(apply_fn, params, x, strategy=s, **kw)
        # the strategies of a case are timed round-robin, so that their comparison is fair (see timed_interleaved)
        timings = timed_interleaved(runnable, repeats=repeats) if runnable else {}
        # the choice is judged on the fastest of each strategy's interleaved calls: load from elsewhere only ever
        # adds time, so the minimum is the steadier estimate of what a strategy costs (medians are reported too)
        times = {s: t["min"] for s, t in timings.items()}
        for s, t in timings.items():
            rows.append(
                dict(
                    case=label,
                    strategy=s,
                    flops=costs[s]["flops"],
                    time=t["median"],
                    min=t["min"],
                    compile=t["compile"],
                    rate_pct=100 * costs[s]["flops"] / t["median"] / matmul[dt],
                )
            )
            log(f"  empirical {label:34s} {s:16s} {fmt_time(t['median']):>9s}")
        for name, kw, pool in (
            ("auto (mlp_config)", dict(mlp_config=CONFIG), STRATEGIES),
            ("auto (generic fn)", {}, ("jacobian", "products")),
        ):
            picked = ntk.choose_strategy(apply_fn, params, x, **kw)
            cands = {s: times[s] for s in pool if s in times}
            if picked not in times and costs[picked]["flops"] * dtype.itemsize / 4 > flop_budget * 10:
                rows.append(
                    dict(
                        case=label,
                        strategy=name,
                        picked=picked,
                        time=None,
                        note=f"picks {picked}: too slow to run here",
                    )
                )
                continue
            t = timed(lambda: ntk.empirical_ntk(apply_fn, params, x, strategy="auto", **kw), repeats=repeats)
            cands.setdefault(picked, t["min"])  # a strategy skipped on its own is timed by the auto call
            best = min(cands, key=cands.get)
            # the choice is judged by the measured time of the strategy it picks (the auto call itself runs the
            # same program, so timing it again would only add noise)
            ok = cands[picked] <= 1.1 * cands[best]
            rows.append(
                dict(
                    case=label,
                    strategy=name,
                    picked=picked,
                    time=t["median"],
                    min=t["min"],
                    compile=t["compile"],
                    best=best,
                    within_10pct=ok,
                    contested=len(cands) > 1,
                    note=f"picks {picked}; fastest measured {best}" + ("" if ok else " -- MISSED"),
                )
            )
            log(
                f"  empirical {label:34s} {name:16s} {fmt_time(t['median']):>9s}  picks {picked}, fastest {best}, ok={ok}"
            )
    return rows
