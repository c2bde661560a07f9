"""Timing and machine description shared by the benchmarks."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def block(x: Any) -> Any:
    return jax.block_until_ready(x)


def timed(fn: Callable[[], Any], *, repeats: int = 5, max_seconds: float = 20.0) -> dict:
    """Run ``fn`` once cold (compile + run), then up to ``repeats`` warm calls (fewer if they would
    take longer than ``max_seconds`` in all; at least 21 when the first call took under 50 ms). Returns ``first`` (s), ``median``/``min`` of the warm calls (s),
    ``compile`` = first - median (s) and ``n`` (warm calls)."""
    return timed_interleaved({"fn": fn}, repeats=repeats, max_seconds=max_seconds)["fn"]


def timed_interleaved(
    fns: dict[str, Callable[[], Any]], *, repeats: int = 5, max_seconds: float = 20.0
) -> dict[str, dict]:
    """:func:`timed` for several functions that are to be compared: each is run once cold, then the warm
    calls go round-robin (A, B, A, B, ...), so a drift of the machine's speed during the measurement (load
    from elsewhere, memory state) falls on all of them alike instead of on whichever ran last. Returns one
    :func:`timed`-style dict per name."""
    first = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        block(fn())
        first[name] = time.perf_counter() - t0
    if max(first.values()) < 0.05:
        repeats = max(repeats, 21)
    times: dict[str, list[float]] = {name: [] for name in fns}
    budget = time.perf_counter() + max_seconds
    while min(len(v) for v in times.values()) < repeats:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            block(fn())
            times[name].append(time.perf_counter() - t0)
        if time.perf_counter() + sum(v[-1] for v in times.values()) > budget:
            break
    out = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = dict(first=first[name], median=med, min=min(ts), compile=max(first[name] - med, 0.0), n=len(ts))
    return out


def copy_bandwidth(size_mb: int = 256) -> float:
    """Bytes per second of ``a + 1`` on a float64 array of ``size_mb`` MB (read + write counted)."""
    n = size_mb * 2**20 // 8
    a = jnp.ones((n,), jnp.float64)
    f = jax.jit(lambda a: a + 1.0)
    t = timed(lambda: f(a), repeats=7)
    return 2 * 8 * n / t["median"]


def matmul_rate(n: int = 2048, dtype=jnp.float64) -> float:
    """FLOP/s of an ``n x n`` by ``n x n`` product (``2 n³`` FLOPs), the BLAS reference."""
    a = jax.random.normal(jax.random.key(0), (n, n), dtype)
    b = jax.random.normal(jax.random.key(1), (n, n), dtype)
    f = jax.jit(jnp.matmul)
    t = timed(lambda: f(a, b), repeats=5)
    return 2 * n**3 / t["median"]


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    thp = "unknown"
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as fh:
            thp = fh.read().strip()
    except OSError:
        pass
    return dict(
        cpu=model,
        cores=os.cpu_count(),
        python=platform.python_version(),
        jax=jax.__version__,
        backend=jax.default_backend(),
        devices=", ".join(str(d) for d in jax.devices()),
        load_average=" ".join(f"{v:.2f}" for v in os.getloadavg()),
        glibc_tunables=os.environ.get("GLIBC_TUNABLES", ""),
        transparent_hugepage=thp,
    )


def load() -> float:
    return os.getloadavg()[0]


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A markdown table of ``rows`` with ``columns`` = [(key, header)]."""
    head = "| " + " | ".join(h for _, h in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(str(r.get(k, "")) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])
