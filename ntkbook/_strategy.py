"""The automatic choice of :func:`ntkbook.ntk.empirical_ntk` (``strategy="auto"``): what each strategy costs.

* :func:`closed_form_cost` -- the leading-order FLOPs and memory of each strategy (the formulas of the
  :mod:`ntkbook.ntk` docstring; :func:`ntkbook.ntk.strategy_cost` is its checked entry).
* :func:`plans` -- both generic programs (``"jacobian"``, ``"products"``) compiled for the shapes at hand,
  with XLA's own count of their FLOPs and bytes (its cost analysis) and the seconds ``TIME_MODEL``
  predicts from them; :func:`choose` picks the faster, ``"jacobian"`` only when its batch Jacobians fit in
  ``JACOBIAN_MEMORY_BUDGET`` bytes.

The programs themselves belong to :mod:`ntkbook.ntk`, which passes them in (this module imports no
other module of the package). Both constants are also reachable as ``ntkbook.ntk.TIME_MODEL`` and
``ntkbook.ntk.JACOBIAN_MEMORY_BUDGET``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "JACOBIAN_MEMORY_BUDGET",
    "TIME_MODEL",
    "choose",
    "closed_form_cost",
    "estimates",
    "plans",
]

JACOBIAN_MEMORY_BUDGET = 2**30  # bytes (1 GiB) for the batch Jacobians of "jacobian"
# The time model of the automatic choice (see ntkbook.ntk.choose_strategy): predicted seconds of one call of a
# strategy,
#     overhead + per_flop * flops * (itemsize / 4) + per_byte * bytes,
# with ``flops`` and ``bytes`` XLA's own count for the compiled program (its cost analysis); a float64 FLOP
# is charged as two float32 FLOPs (half the SIMD lanes). Fitted by ``python -m benchmarks --only strategy``
# on a 2-core CPU (benchmarks/results/strategy-fit.md). On another machine the absolute times differ; the
# choice less so, as both strategies run on the same matrix units and memory.
TIME_MODEL = {
    "jacobian": {"overhead": 4.01e-04, "per_flop": 4.25e-12, "per_byte": 1.44e-10},
    "products": {"overhead": 6.68e-04, "per_flop": 5.08e-12, "per_byte": 4.56e-11},
}


def closed_form_cost(
    strategy: str, n1: int, n2: int, o: int, P: int, widths: tuple[int, ...] | None, output: str
) -> dict:
    """Leading-order ``{"flops", "memory"}`` (memory in floats) of ``strategy`` for ``n1 x n2`` inputs,
    ``o`` outputs and ``P`` parameters; ``F = 2 P`` is taken as the cost of one forward pass for one input.
    Arguments unchecked; ``widths`` (``(n_0, ..., n_L)``, checked) only for ``"layerwise"``."""
    F = 2 * P
    oo = o * o if output == "full" else o
    if strategy == "jacobian":
        return {"flops": 3 * (n1 + n2) * o * F + 2 * n1 * n2 * oo * P, "memory": (n1 + n2) * o * P + n1 * n2 * oo}
    if strategy == "products":
        return {"flops": n2 * o * (3 * F + 2 * n1 * F), "memory": P + n1 * n2 * o * o}
    ws = widths
    contraction = 2 * n1 * n2 * sum(a + oo * b for a, b in zip(ws[:-1], ws[1:]))
    return {
        "flops": 3 * (n1 + n2) * o * F + contraction,
        "memory": (n1 + n2) * o * sum(ws[1:]) + (n1 + n2) * sum(ws[:-1]) + n1 * n2 * oo,
    }


def _aval(a) -> tuple:
    """``(shape, dtype name, weak_type)``: what a compiled program requires of an argument."""
    a = a if hasattr(a, "dtype") and hasattr(a, "shape") else jnp.asarray(a)
    return tuple(a.shape), jnp.dtype(a.dtype).name, bool(getattr(a, "weak_type", False))


def _xla_cost(compiled) -> tuple[float, float] | None:
    """``(flops, bytes accessed)`` of a compiled program by XLA's cost analysis; ``None`` where the backend gives none."""
    try:
        cost = compiled.cost_analysis()
    except Exception:  # some backends or versions offer no analysis: the closed-form counts stand in
        return None
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    if not cost or "flops" not in cost:
        return None
    return float(cost["flops"]), float(cost.get("bytes accessed", 0.0))


@functools.lru_cache(maxsize=64)
def _plans(programs, apply_fn, treedef, leaf_avals, x1_aval, x2_aval, output, same, chunk):
    """Both generic strategies compiled for these shapes, with XLA's counts and the predicted time of each.
    The executables are kept, so the automatic choice runs the one it picks without compiling it again."""
    jacobian_program, products_program = programs
    struct = lambda s, d, w: jax.ShapeDtypeStruct(s, d, weak_type=w)  # noqa: E731
    params = jax.tree_util.tree_unflatten(treedef, [struct(*a) for a in leaf_avals])
    x1, x2 = struct(*x1_aval), struct(*x2_aval)
    n1, n2 = x1.shape[0], x2.shape[0]
    o = int(jax.eval_shape(apply_fn, params, x1).shape[1])
    P = sum(int(np.prod(a[0])) for a in leaf_avals)
    itemsize = max(jnp.dtype(a[1]).itemsize for a in leaf_avals)
    jacobian_bytes = (n1 if same else n1 + n2) * o * P * itemsize
    columns = n2 * o
    step = min(chunk, columns)
    plans = {}
    for s in ("jacobian", "products"):
        compiled, counted = None, None
        if s == "products" or jacobian_bytes <= JACOBIAN_MEMORY_BUDGET:
            if s == "jacobian":
                compiled = jacobian_program.lower(apply_fn, params, x1, x2, output, same).compile()
            else:
                compiled = products_program.lower(apply_fn, params, x1, x2, output, chunk).compile()
            counted = _xla_cost(compiled)
        if counted is not None and s == "products":
            # XLA counts the body of a loop once: here one step of `step` columns plus the remainder
            # (`jax.lax.map` maps the last `columns % step` apart); scale to all `columns`.
            counted = tuple(c * columns / (step + columns % step) for c in counted)
        source = "xla"
        if counted is None:
            c = closed_form_cost(s, n1, n2, o, P, None, output)
            counted, source = (float(c["flops"]), float(c["memory"] * itemsize)), "closed form"
        flops, nbytes = counted
        m = TIME_MODEL[s]
        seconds = m["overhead"] + m["per_flop"] * flops * itemsize / 4 + m["per_byte"] * nbytes
        plans[s] = {"flops": flops, "bytes": nbytes, "seconds": seconds, "counted_by": source, "compiled": compiled}
    plans["jacobian"]["jacobian_bytes"] = jacobian_bytes
    return plans


def plans(
    programs: tuple[Callable, Callable],
    apply_fn: Callable,
    params: Any,
    x1: jax.Array,
    x2: jax.Array,
    output: str,
    same: bool,
    chunk: int,
) -> dict[str, dict]:
    """``{"jacobian": plan, "products": plan}`` for checked arguments, cached per function, shapes, dtypes and options.

    ``programs``: the jitted ``(jacobian_program, products_program)`` of :mod:`ntkbook.ntk`, called as
    ``jacobian_program(apply_fn, params, x1, x2, output, same)`` and
    ``products_program(apply_fn, params, x1, x2, output, chunk)``. Each plan holds ``flops``, ``bytes``,
    ``seconds`` (``TIME_MODEL``), ``counted_by`` (``"xla"`` or ``"closed form"``) and ``compiled``
    (the executable, ``None`` for a ``"jacobian"`` over the budget); the ``"jacobian"`` plan also
    ``jacobian_bytes``.
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return _plans(
        programs, apply_fn, treedef, tuple(_aval(l) for l in leaves), _aval(x1), _aval(x2), output, same, chunk
    )


def choose(plans: dict[str, dict]) -> str:
    """``"products"`` when the batch Jacobians exceed ``JACOBIAN_MEMORY_BUDGET``, else the faster predicted plan."""
    if plans["jacobian"]["jacobian_bytes"] > JACOBIAN_MEMORY_BUDGET:
        return "products"
    return min(("jacobian", "products"), key=lambda s: plans[s]["seconds"])


def estimates(plans: dict[str, dict]) -> dict[str, dict]:
    """The plans without their executables: what :func:`ntkbook.ntk.strategy_estimates` returns."""
    return {s: {k: v for k, v in p.items() if k != "compiled"} for s, p in plans.items()}
