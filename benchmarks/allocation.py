"""What fresh memory costs, and what huge pages save.

XLA on the CPU gives every output (and every temporary of a program) a fresh allocation, and glibc's
``malloc`` serves large blocks by ``mmap``: the first write to each 4 KiB page then takes a page fault.
On this machine kind a fault costs about 2 µs, so a memory-bound pass that writes fresh memory runs at a
fraction of the bandwidth it reaches in place. With ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (glibc >=
2.35) ``malloc`` asks for transparent huge pages (``madvise``), one fault per 2 MiB. The tunable is read
when a process starts, so it is set by the ``Makefile`` for everything it runs, and this module measures
the target case of the analytic kernels in two child processes, with and without it.

``python -m benchmarks.allocation`` prints one JSON line for the process it runs in.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

TUNABLE = "glibc.malloc.hugetlb=1"


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def bandwidths(size_mb: int = 256) -> dict:
    """Bytes per second of ``a + 1`` (float64, ``size_mb`` MB; read + write counted) into a fresh output and
    in place (the input donated), and the page faults per fresh call."""
    import jax
    import jax.numpy as jnp

    from .common import copy_bandwidth, timed

    n = size_mb * 2**20 // 8
    fresh_rate = copy_bandwidth(size_mb)  # a + 1 into a fresh output
    a = jnp.ones((n,), jnp.float64)
    fresh = jax.jit(lambda a: a + 1.0)
    jax.block_until_ready(fresh(a))
    f0 = _faults()
    jax.block_until_ready(fresh(a))
    faults = _faults() - f0
    inplace = jax.jit(lambda a: a + 1.0, donate_argnums=0)
    state = [jnp.ones((n,), jnp.float64)]

    def step():
        state[0] = inplace(state[0])
        return state[0]

    t_in = timed(step, repeats=7)
    return dict(fresh=fresh_rate, in_place=2 * 8 * n / t_in["median"], faults_per_call=faults, pages=8 * n // 4096)


def target_case(n: int = 4096, n0: int = 784, depth: int = 4, repeats: int = 5) -> dict:
    """The target case of the analytic kernels in this process: median times of the Gram matrix and of
    ``ntkbook._fast.kernels`` (row tiles, ``symmetric=False``; mirrored blocks, the default), page faults per call, and the copy bandwidths."""
    import jax
    import jax.numpy as jnp

    from ntkbook import _fast

    from .common import timed

    x = jax.random.normal(jax.random.key(n + n0), (n, n0), jnp.float64)
    gram = jax.jit(lambda x: x @ x.T / x.shape[1])
    out = dict(tunables=os.environ.get("GLIBC_TUNABLES", ""), gram=timed(lambda: gram(x), repeats=repeats)["median"])
    for sym in (False, True):
        fn = lambda: _fast.kernels(x, depth=depth, beta=0.1, symmetric=sym)  # noqa: E731
        t = timed(fn, repeats=repeats)["median"]
        f0 = _faults()
        jax.block_until_ready(fn())
        out["symmetric" if sym else "fast"] = dict(
            time=t, faults=_faults() - f0, ns_entry_layer=(t - out["gram"]) / (n * n * (depth - 1)) * 1e9
        )
    out.update(bandwidths())
    return out


def compare() -> list[dict]:
    """:func:`target_case` in two child processes: the default allocator, then huge pages."""
    rows = []
    for tunables in ("", TUNABLE):
        env = dict(os.environ, GLIBC_TUNABLES=tunables, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.allocation"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


if __name__ == "__main__":
    import jax

    jax.config.update("jax_enable_x64", True)
    print(json.dumps(target_case()))
