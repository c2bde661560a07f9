"""Analytic (infinite-width) kernels: the library's recursion vs the fused fast path.

Each case computes ``(Σ^(L), K^(L))`` for ``x2 = None`` (an ``N x N`` matrix of inputs with itself),
``x`` standard normal of shape ``(N, n_0)``. Reported per case: the median warm time per call, the
compile time (first call minus median), the time of the Gram matrix ``x xᵀ/n_0`` alone and its
FLOP rate against the ``2048³`` BLAS product of the same run, ``ns per entry per layer`` =
``(t - t_Gram) / (N² (L - 1))``, and the achieved bandwidth of the elementwise part against the
measured copy bandwidth. Byte counts (the least traffic each algorithm needs, itemsize ``w``):

* straightforward (a jitted loop of :func:`ntkbook.nngp.kernel_map`, every layer its own pass) and
  library (:func:`ntkbook.infinite_ntk.infinite_width_kernels`, whatever path it takes, called directly;
  ``library-jit``: the same inside the caller's ``jax.jit``) -- every layer reads and writes ``Σ`` and
  ``K``: ``4 N² w`` per layer;
* fast (:func:`ntkbook._fast.kernels` with ``symmetric=False``) -- ``Σ`` and ``K`` are filled with zeros
  (``2 N² w``), then each row tile's Gram rows and fused pass stay in cache and its ``Σ + iK`` is written
  into them (``2 N² w``): ``4 N² w`` whatever the depth; fast-symmetric (the default for ``x2 = None``) --
  the same zero fill, then each upper block's ``Σ + iK`` written at its place and mirrored (``2 N² w``):
  ``4 N² w`` too, with half the Gram products and half the transcendental work.

For a closed form, ``library`` and ``library-jit`` run the same program (the mirrored blocks of
``fast-symmetric``); the rows show that calling it inside ``jit`` costs nothing.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ntkbook import _fast, infinite_ntk, nngp

from .common import fmt_time, timed

IMPLS = ("straightforward", "library", "library-jit", "fast")


@functools.partial(jax.jit, static_argnames=("depth", "activation"))
def straightforward(x, beta, *, depth, activation):
    """The straightforward jitted recursion: one ``ntkbook.nngp.kernel_map`` per layer, every layer a
    separate pass -- the reference for speed, and for accuracy of the fused pass's own arithmetic (the
    closed forms are the same, ``ntkbook._fast.closed_form``; the independent oracles are in tests/oracles.py)."""
    cov, v1, v2 = nngp.input_covariance(x, beta=beta)
    b2 = beta**2
    k = cov
    for _ in range(depth - 1):
        m = nngp.kernel_map(cov, v1, v2, activation=activation)
        cov, v1, v2 = m.sigma + b2, m.var1 + b2, m.var2 + b2
        k = cov + k * m.sigma_dot
    return cov, k


def _fn(impl, depth, activation, symmetric=None):
    if impl == "straightforward":
        return lambda x: straightforward(x, 0.1, depth=depth, activation=activation)
    if impl in ("library", "library-jit"):
        fn = functools.partial(infinite_ntk.infinite_width_kernels, depth=depth, activation=activation, beta=0.1)
        return jax.jit(fn) if impl == "library-jit" else fn
    return functools.partial(_fast.kernels, depth=depth, activation=activation, beta=0.1, symmetric=symmetric)


def default_grid() -> list[dict]:
    g = []
    for n in (256, 512, 1024, 2048, 4096):  # time vs N, the target case at N = 4096
        g.append(dict(n=n, n0=784, depth=4, activation="relu", dtype="float64"))
    for depth in (1, 2, 10):
        g.append(dict(n=2048, n0=784, depth=depth, activation="relu", dtype="float64"))
    g.append(dict(n=4096, n0=100, depth=4, activation="relu", dtype="float64"))
    g.append(dict(n=4096, n0=784, depth=4, activation="relu", dtype="float32"))
    for activation in ("erf", "identity"):  # every closed form takes the same fused pass
        g.append(dict(n=4096, n0=784, depth=4, activation=activation, dtype="float64"))
    g.append(dict(n=256, n0=784, depth=3, activation="tanh", dtype="float64"))  # Gauss-Hermite quadrature
    return g


def full_grid() -> list[dict]:
    g = []
    for dtype in ("float64", "float32"):
        for activation in ("relu", "erf", "tanh"):
            for n in (256, 512, 1024, 2048, 4096, 8192):
                if activation == "tanh" and n > 512:
                    continue
                for n0 in (100, 784):
                    for depth in (1, 2, 4, 10):
                        g.append(dict(n=n, n0=n0, depth=depth, activation=activation, dtype=dtype))
    return g


def _rel_off_diagonal(a, b):
    """max over i != j of |a - b| / sqrt(b_ii b_jj) (the entry's scale; = plain relative error for ReLU up to ~2)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = np.sqrt(np.abs(np.diag(b)))
    err = np.abs(a - b) / np.outer(d, d)
    np.fill_diagonal(err, 0.0)
    return float(err.max())


def run(grid: list[dict], *, copy_bw: float, matmul: dict, repeats: int = 5, log=print) -> list[dict]:
    rows = []
    for case in grid:
        n, n0, depth, act, dt = case["n"], case["n0"], case["depth"], case["activation"], case["dtype"]
        dtype = jnp.dtype(dt)
        x = jax.random.normal(jax.random.key(n + n0), (n, n0), dtype)
        gram = jax.jit(lambda x: x @ x.T / x.shape[1])
        tg = timed(lambda: gram(x), repeats=repeats)
        gram_rate = 2 * n * n * n0 / tg["median"]
        impls = (
            [("library", None)]
            if not _fast.supports(act)
            else [("straightforward", None), ("library", None), ("library-jit", None), ("fast", False)]
        )
        if _fast.supports(act):
            impls.append(("fast", True))
        outs = {}
        for impl, sym in impls:
            fn = _fn(impl, depth, act, sym)
            t = timed(lambda: fn(x), repeats=repeats if n <= 4096 else 3)
            name = impl if sym is None else ("fast-symmetric" if sym else "fast")
            layers = depth - 1
            w = dtype.itemsize
            nbytes = 4 * n * n * w if impl == "fast" else 4 * n * n * w * layers
            rest = max(t["median"] - tg["median"], 1e-9)
            row = dict(
                case=f"{act} {dt} n0={n0} L={depth}",
                impl=name,
                N=n,
                n0=n0,
                depth=depth,
                activation=act,
                dtype=dt,
                time=t["median"],
                compile=t["compile"],
                repeats=t["n"],
                gram=tg["median"],
                gram_pct=100 * gram_rate / matmul[dt],
                ns_entry_layer=(rest / (n * n * layers) * 1e9) if layers else None,
                bandwidth=(nbytes / rest) if layers else None,
                copy_pct=(100 * nbytes / rest / copy_bw) if layers else None,
            )
            if dt == "float64" and depth > 1:
                outs[name] = fn(x)
            rows.append(row)
            log(
                f"  analytic {row['case']:32s} N={n:5d} {name:15s} {fmt_time(row['time']):>9s}  compile {fmt_time(row['compile']):>9s}"
                + (f"  {row['ns_entry_layer']:.2f} ns/entry/layer" if layers else "")
            )
        if "straightforward" in outs:
            for name, o in outs.items():
                if name != "straightforward":
                    err = max(
                        _rel_off_diagonal(o[0], outs["straightforward"][0]),
                        _rel_off_diagonal(o[1], outs["straightforward"][1]),
                    )
                    for r in rows[-len(impls) :]:
                        if r["impl"] == name:
                            r["rel_err"] = err
    return rows
