"""Chapter 8 -- the empirical Neural Tangent Kernel and gradient flow.

For a network ``f(x; θ): R^{n_0} -> R^{n_L}`` with parameters ``θ`` (a pytree with ``P``
scalars), the empirical NTK of two inputs is the ``n_L x n_L`` matrix

    K(x, x'; θ) = ∇_θ f(x)^T ∇_θ f(x') = J(x) J(x')^T,     J(x) = ∂f(x)/∂θ  of shape (n_L, P),

``K_{ij} = sum_p ∂f_i(x)/∂θ_p ∂f_j(x')/∂θ_p`` (:cite:`jacot2018ntk`, :cite:`weng2022ntk`).

Three ways to compute it for batches ``x1`` (``N1`` inputs) and ``x2`` (``N2`` inputs)
(:cite:`novak2022fast` analyses the same trade-offs); ``F`` is the cost of one forward pass
for one input (``~2P`` FLOPs for a dense network), ``o = n_L``:

* ``"jacobian"`` -- Jacobian contraction. Per-input Jacobians by ``vmap(jacrev)``
  (``(N1 + N2) o`` reverse passes, ``~3 (N1 + N2) o F`` FLOPs), then ``K = J1 J2^T``
  contracted over the ``P`` parameters: ``2 N1 N2 o^2 P`` FLOPs (``2 N1 N2 o P`` for
  ``output="trace"``/``"diagonal"``). Memory ``(N1 + N2) o P`` floats for the Jacobians. Fastest
  when the Jacobians fit in memory (the contraction is one matrix product).
* ``"products"`` -- NTK-vector products, no Jacobian of the batch materialised. For each
  output basis vector ``e_{b,j}`` of the ``x2`` side (``N2 o`` of them) a vector-Jacobian
  product gives one row ``J(x2_b)^T e_j`` (a ``P``-vector, one reverse pass) and a
  Jacobian-vector product of the ``x1`` batch along it gives ``K[:, b, :, j]`` (one forward
  pass over ``N1`` inputs). ``~N2 o (3F + 2 N1 F)`` FLOPs, memory ``chunk * P + N1 N2 o^2``:
  the basis is mapped in chunks of ``chunk`` rows (``jax.lax.map``), so peak memory does
  not grow with the batch.
* ``"layerwise"`` -- only for networks of :mod:`ntkbook.mlp`: the structure of a dense layer,
  ``∂f_i/∂w^(l)_{pk} = δ^(l+1)_{ik} A^(l)_p / sqrt(n_l)``, ``∂f_i/∂b^(l)_k = β δ^(l+1)_{ik}``,
  with ``δ^(l+1) = ∂f/∂Ã^(l+1)`` (shape ``(o, n_{l+1})``), gives

      K(x, x')_{ij} = sum_{l=0}^{L-1} (A^(l)(x)·A^(l)(x') / n_l + β^2) (δ^(l+1)(x) δ^(l+1)(x')^T)_{ij}.

  The sensitivities take ``o`` reverse passes per input (``~3 (N1 + N2) o F``); the
  contraction costs ``2 N1 N2 sum_l (n_l + o^2 n_{l+1})`` FLOPs -- ``O(N^2 sum_l n_l)`` per
  output pair instead of ``O(N^2 P)`` -- and memory ``(N1 + N2) o sum_l n_l``.

``strategy="auto"`` picks ``"layerwise"`` when an ``mlp_config`` is given; else it predicts the time
of the other two from XLA's own FLOP and byte counts of their programs (:func:`choose_strategy`,
:func:`strategy_estimates`) and takes the faster, ``"jacobian"`` only when its Jacobians fit in
:data:`JACOBIAN_MEMORY_BUDGET` bytes.

References: :cite:`jacot2018ntk`, :cite:`weng2022ntk`, :cite:`novak2022fast`, :cite:`lee2019wide`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from . import activations as _act
from . import mlp as _mlp
from .validate import as_array, as_callable, positive_int

CHAPTER = "08-ntk"

__all__ = [
    "JACOBIAN_MEMORY_BUDGET",
    "OUTPUTS",
    "STRATEGIES",
    "TIME_MODEL",
    "choose_strategy",
    "empirical_ntk",
    "feature_map",
    "layerwise_ntk",
    "mlp_ntk",
    "strategy_cost",
    "strategy_estimates",
]

STRATEGIES = ("auto", "jacobian", "products", "layerwise")
OUTPUTS = ("full", "trace", "diagonal")
JACOBIAN_MEMORY_BUDGET = 2**30  # bytes (1 GiB) for the batch Jacobians of "jacobian"
# The time model of the automatic choice (see choose_strategy): predicted seconds of one call of a strategy,
#     overhead + per_flop * flops * (itemsize / 4) + per_byte * bytes,
# with ``flops`` and ``bytes`` XLA's own count for the compiled program (its cost analysis); a float64 FLOP
# is charged as two float32 FLOPs (half the SIMD lanes). Fitted by ``python -m benchmarks --only strategy``
# on a 2-core CPU (benchmarks/results/strategy-fit.md). On another machine the absolute times differ; the
# choice less so, as both strategies run on the same matrix units and memory.
TIME_MODEL = {
    "jacobian": {"overhead": 4.01e-04, "per_flop": 4.25e-12, "per_byte": 1.44e-10},
    "products": {"overhead": 6.68e-04, "per_flop": 5.08e-12, "per_byte": 4.56e-11},
}

ApplyFn = Callable[[Any, jax.Array], jax.Array]


# --------------------------------------------------------------------------- validation


def _check_output(output: Any) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(map(repr, OUTPUTS))}, got {output!r}")
    return output


def _check_batches(x1, x2) -> tuple[jax.Array, jax.Array]:
    x1 = as_array(x1, "x1", ndim=2)
    x2 = x1 if x2 is None else as_array(x2, "x2", ndim=2)
    if x1.shape[0] == 0:
        raise ValueError(f"x1 must hold at least one input, got shape {x1.shape}")
    if x2.shape[0] == 0:
        raise ValueError(f"x2 must hold at least one input, got shape {x2.shape}")
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must have the same input dimension, got shapes {x1.shape} and {x2.shape}")
    return x1, x2


def _check_params(params) -> None:
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError("params must hold at least one array leaf")
    for leaf in leaves:
        if not hasattr(leaf, "dtype") or not jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating):
            raise TypeError(f"params must be a pytree of floating arrays, got a leaf of type {type(leaf).__name__}")


def _output_dim(apply_fn, params, x1) -> int:
    try:
        out = jax.eval_shape(apply_fn, params, x1)
    except Exception as exc:  # surface a readable message naming the argument
        raise ValueError(f"apply_fn(params, x1) failed for x1 of shape {x1.shape}: {exc}") from exc
    if not hasattr(out, "shape") or len(out.shape) != 2 or out.shape[0] != x1.shape[0]:
        raise ValueError(f"apply_fn must map a batch (N, n_0) to (N, n_L), got output shape {getattr(out, 'shape', out)} for x1 of shape {x1.shape}")
    return int(out.shape[1])


def _check_network(apply_fn, params, x):
    """``apply_fn`` checked to be callable, ``params`` a pytree of floating arrays, and ``apply_fn(params, x)``
    of shape ``(N, n_L)``: the checked ``apply_fn``."""
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params)
    _output_dim(apply_fn, params, x)
    return apply_fn


def _single(apply_fn):
    """``f(params, x)`` for one input ``x`` of shape ``(n_0,)`` -> ``(n_L,)``."""
    return lambda params, x: apply_fn(params, x[None, :])[0]


# --------------------------------------------------------------------------- strategies


def _leaf_jacobians(apply_fn, params, x):
    """Per-input Jacobians ``∂f(x_a)/∂θ``, one per parameter leaf, flattened: a list of ``(N, o, P_leaf)``."""
    jac = jax.vmap(jax.jacrev(_single(apply_fn)), in_axes=(None, 0))(params, x)
    leaves = jax.tree_util.tree_leaves(jac)
    n, o = leaves[0].shape[:2]
    return [jnp.reshape(l, (n, o, -1)) for l in leaves]


def _jacobians(apply_fn, params, x):
    """Per-input Jacobians ``∂f(x_a)/∂θ``, flattened: ``(N, o, P)``."""
    return jnp.concatenate(_leaf_jacobians(apply_fn, params, x), axis=2)


_EINSUM = {"full": "aip,bjp->abij", "diagonal": "aip,bip->abi", "trace": "aip,bip->ab"}


def _contract(j1, j2, output):
    """``Σ_leaves J1 J2ᵀ``: contracted leaf by leaf, so the ``(N, o, P)`` concatenation (a copy as large as
    the Jacobians themselves) is never formed -- measured 1.3-1.6x faster on small networks."""
    return sum(jnp.einsum(_EINSUM[output], a, b) for a, b in zip(j1, j2))


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def _ntk_jacobian(apply_fn, params, x1, x2, output, same):
    j1 = _leaf_jacobians(apply_fn, params, x1)
    j2 = j1 if same else _leaf_jacobians(apply_fn, params, x2)
    return _contract(j1, j2, output)


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def _ntk_products(apply_fn, params, x1, x2, output, chunk):
    f1 = lambda p: apply_fn(p, x1)  # noqa: E731  (N1, o)
    single = _single(apply_fn)
    n2 = x2.shape[0]
    o = jax.eval_shape(apply_fn, params, x1).shape[1]
    basis = jnp.eye(o, dtype=x1.dtype)

    def column(bj):
        b, j = bj // o, bj % o
        _, pullback = jax.vjp(lambda p: single(p, x2[b]), params)
        (row,) = pullback(basis[j])  # J(x2_b)^T e_j, a parameter pytree
        _, col = jax.jvp(f1, (params,), (row,))  # J(x1) J(x2_b)^T e_j: (N1, o)
        return col

    cols = jax.lax.map(column, jnp.arange(n2 * o), batch_size=min(chunk, n2 * o))  # (N2 o, N1, o)
    full = jnp.transpose(jnp.reshape(cols, (n2, o, x1.shape[0], o)), (2, 0, 3, 1))  # (N1, N2, o_i, o_j)
    if output == "full":
        return full
    diag = jnp.diagonal(full, axis1=2, axis2=3)
    return diag if output == "diagonal" else jnp.sum(diag, axis=-1)


# --------------------------------------------------------------------------- layerwise (mlp only)


def sensitivities(params, x, *, activation="relu", beta=0.0):
    """The forward pass of :func:`ntkbook.mlp.forward` and the output sensitivities
    ``δ^(l+1)(x) = ∂f(x)/∂Ã^(l+1)`` for ``l = 0, ..., L-1``.

    Computed by a reverse pass per output (``vmap`` over the ``n_L`` basis cotangents) of the
    network with a zero perturbation added to every pre-activation, differentiated with
    respect to the perturbations.

    Args:
      params: from :func:`ntkbook.mlp.init`; x: shape ``(N, n_0)``.

    Returns:
      ``(fwd, deltas)``: ``fwd`` a :class:`ntkbook.mlp.Forward`; ``deltas[l]`` of shape
      ``(N, n_L, n_{l+1})``.
    """
    widths, x, sigma, beta = _mlp._prepare(params, x, activation, beta)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, n_0), got {x.shape}")
    fwd = _mlp._forward(params, x, sigma, beta)

    def f_perturbed(eps, xi):
        a = xi
        L = len(params)
        for l, layer in enumerate(params):
            z = a @ layer["w"] / jnp.sqrt(jnp.asarray(layer["w"].shape[0], layer["w"].dtype)) + beta * layer["b"] + eps[l]
            if l + 1 < L:
                a = sigma(z)
        return z

    zeros = [jnp.zeros((n,), x.dtype) for n in widths[1:]]
    basis = jnp.eye(widths[-1], dtype=x.dtype)

    def per_input(xi):
        _, pullback = jax.vjp(lambda e: f_perturbed(e, xi), zeros)
        return jax.vmap(lambda v: pullback(v)[0])(basis)  # list of (n_L, n_{l+1})

    deltas = jax.vmap(per_input)(x)
    return fwd, deltas


@functools.partial(jax.jit, static_argnums=(3, 4, 6))
def _ntk_layerwise(params, x1, x2, output, activation, beta, same):
    fwd1, d1 = sensitivities(params, x1, activation=activation, beta=beta)
    fwd2, d2 = (fwd1, d1) if same else sensitivities(params, x2, activation=activation, beta=beta)
    total = 0.0
    for a1, a2, e1, e2 in zip(fwd1.post, fwd2.post, d1, d2):
        n_l = a1.shape[-1]
        scal = a1 @ a2.T / n_l + beta**2  # (N1, N2)
        if output == "full":
            sens = jnp.einsum("aik,bjk->abij", e1, e2)
            total = total + scal[:, :, None, None] * sens
        elif output == "diagonal":
            total = total + scal[:, :, None] * jnp.einsum("aik,bik->abi", e1, e2)
        else:
            total = total + scal * jnp.einsum("aik,bik->ab", e1, e2)
    return total


# --------------------------------------------------------------------------- public API


def strategy_cost(strategy: str, *, n1: int, n2: int, n_out: int, num_params: int, widths=None, output: str = "full") -> dict:
    """Leading-order FLOPs and memory (floats) of one strategy (see the module docstring).

    ``widths`` (``(n_0, ..., n_L)``) is needed for ``"layerwise"``. ``F = 2 P`` is taken as the
    cost of one forward pass for one input.
    """
    if strategy not in STRATEGIES[1:]:
        raise ValueError(f"strategy must be one of 'jacobian', 'products', 'layerwise', got {strategy!r}")
    _check_output(output)
    n1, n2, o, P = (positive_int(v, k) for v, k in ((n1, "n1"), (n2, "n2"), (n_out, "n_out"), (num_params, "num_params")))
    F = 2 * P
    oo = o * o if output == "full" else o
    if strategy == "jacobian":
        return {"flops": 3 * (n1 + n2) * o * F + 2 * n1 * n2 * oo * P, "memory": (n1 + n2) * o * P + n1 * n2 * oo}
    if strategy == "products":
        return {"flops": n2 * o * (3 * F + 2 * n1 * F), "memory": P + n1 * n2 * o * o}
    if widths is None:
        raise ValueError("widths must be given for the 'layerwise' strategy cost")
    ws = _mlp._widths(widths)
    contraction = 2 * n1 * n2 * sum(a + oo * b for a, b in zip(ws[:-1], ws[1:]))
    return {"flops": 3 * (n1 + n2) * o * F + contraction, "memory": (n1 + n2) * o * sum(ws[1:]) + (n1 + n2) * sum(ws[:-1]) + n1 * n2 * oo}


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
def _plans(apply_fn, treedef, leaf_avals, x1_aval, x2_aval, output, same, chunk):
    """Both generic strategies compiled for these shapes, with XLA's counts and the predicted time of each.
    The executables are kept, so the automatic choice runs the one it picks without compiling it again."""
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
                compiled = _ntk_jacobian.lower(apply_fn, params, x1, x2, output, same).compile()
            else:
                compiled = _ntk_products.lower(apply_fn, params, x1, x2, output, chunk).compile()
            counted = _xla_cost(compiled)
        if counted is not None and s == "products":
            # XLA counts the body of a loop once: here one step of `step` columns plus the remainder
            # (`jax.lax.map` maps the last `columns % step` apart); scale to all `columns`.
            counted = tuple(c * columns / (step + columns % step) for c in counted)
        source = "xla"
        if counted is None:
            c = strategy_cost(s, n1=n1, n2=n2, n_out=o, num_params=P, output=output)
            counted, source = (float(c["flops"]), float(c["memory"] * itemsize)), "closed form"
        flops, nbytes = counted
        m = TIME_MODEL[s]
        seconds = m["overhead"] + m["per_flop"] * flops * itemsize / 4 + m["per_byte"] * nbytes
        plans[s] = {"flops": flops, "bytes": nbytes, "seconds": seconds, "counted_by": source, "compiled": compiled}
    plans["jacobian"]["jacobian_bytes"] = jacobian_bytes
    return plans


def _plans_for(apply_fn, params, x1, x2, output, same, chunk):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return _plans(apply_fn, treedef, tuple(_aval(l) for l in leaves), _aval(x1), _aval(x2), output, same, chunk)


def _choose(plans) -> str:
    if plans["jacobian"]["jacobian_bytes"] > JACOBIAN_MEMORY_BUDGET:
        return "products"
    return min(("jacobian", "products"), key=lambda s: plans[s]["seconds"])


def strategy_estimates(apply_fn: ApplyFn, params: Any, x1: jax.Array, x2: jax.Array | None = None, *,
                       output: str = "full", chunk: int = 64) -> dict[str, dict]:
    """What the automatic choice sees. For ``"jacobian"`` and ``"products"``: XLA's count of the FLOPs and bytes
    accessed by the compiled program (``jax.jit(...).lower(...).compile().cost_analysis()``; nothing is run)
    and the predicted seconds of one call by :data:`TIME_MODEL`; for ``"jacobian"`` also the bytes of its batch
    Jacobians (``jacobian_bytes``, against :data:`JACOBIAN_MEMORY_BUDGET`).

    Same arguments as :func:`empirical_ntk`. The programs are compiled once per function, shapes, dtypes and
    options, and kept for :func:`empirical_ntk`. Where the backend offers no cost analysis, or the Jacobians
    are over the budget (that program is then not compiled), the closed-form counts of :func:`strategy_cost`
    stand in (``counted_by`` says which).

    Returns:
      ``{"jacobian": {...}, "products": {...}}``, each with ``flops``, ``bytes``, ``seconds``, ``counted_by``.
    """
    output = _check_output(output)
    chunk = positive_int(chunk, "chunk")
    same = x2 is None
    x1, x2 = _check_batches(x1, x2)
    apply_fn = _check_network(apply_fn, params, x1)
    plans = _plans_for(apply_fn, params, x1, x2, output, same, chunk)
    return {s: {k: v for k, v in p.items() if k != "compiled"} for s, p in plans.items()}


def choose_strategy(apply_fn: ApplyFn, params: Any, x1: jax.Array, x2: jax.Array | None = None, *,
                    output: str = "full", chunk: int = 64, mlp_config: dict | None = None) -> str:
    """The ``"auto"`` rule of :func:`empirical_ntk` (same arguments): ``"layerwise"`` when ``mlp_config`` is
    given; else ``"products"`` when the batch Jacobians would exceed :data:`JACOBIAN_MEMORY_BUDGET`; else the
    faster of ``"jacobian"`` and ``"products"`` as predicted from XLA's FLOP and byte counts of the two
    programs (:func:`strategy_estimates`). ``make bench`` checks the choice against measured times.
    """
    if mlp_config is not None:
        return "layerwise"
    return _choose(strategy_estimates(apply_fn, params, x1, x2, output=output, chunk=chunk))


def empirical_ntk(
    apply_fn: ApplyFn,
    params: Any,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    strategy: str = "auto",
    output: str = "full",
    mlp_config: dict | None = None,
    chunk: int = 64,
) -> jax.Array:
    """The empirical NTK ``K(x, x'; θ) = ∇_θ f(x)^T ∇_θ f(x')`` for every pair of a batch.

    Args:
      apply_fn: ``apply_fn(params, x)`` maps a batch ``(N, n_0)`` to ``(N, n_L)``; JAX-traceable.
      params: the parameter pytree ``θ``.
      x1: shape ``(N1, n_0)``.
      x2: shape ``(N2, n_0)``; ``None`` means ``x2 = x1``.
      strategy: ``"jacobian"``, ``"products"``, ``"layerwise"`` (needs ``mlp_config`` and params
        of :mod:`ntkbook.mlp`; ``apply_fn`` is then not used) or ``"auto"`` (see
        :func:`choose_strategy`).
      output: ``"full"`` -> ``(N1, N2, n_L, n_L)`` with ``K[a, b, i, j] = ∂f_i(x1_a)/∂θ · ∂f_j(x2_b)/∂θ``;
        ``"diagonal"`` -> ``(N1, N2, n_L)`` (the entries ``i = j``); ``"trace"`` -> ``(N1, N2)``
        (their sum).
      mlp_config: ``dict(activation=..., beta=...)`` of the mlp network ``apply_fn`` computes;
        enables ``"layerwise"``.
      chunk: basis vectors per step of ``"products"`` (memory ``~ chunk * P``).

    References: :cite:`jacot2018ntk`, :cite:`weng2022ntk`, :cite:`novak2022fast`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}, got {strategy!r}")
    output = _check_output(output)
    chunk = positive_int(chunk, "chunk")
    same = x2 is None
    x1, x2 = _check_batches(x1, x2)
    if mlp_config is not None:
        if not isinstance(mlp_config, dict) or not set(mlp_config) <= {"activation", "beta"}:
            raise ValueError(f"mlp_config must be a dict with keys among 'activation', 'beta', got {mlp_config!r}")
    if strategy == "layerwise" and mlp_config is None:
        raise ValueError("strategy='layerwise' needs mlp_config=dict(activation=..., beta=...) (networks of ntkbook.mlp only)")
    if strategy == "layerwise" or (strategy == "auto" and mlp_config is not None):
        return layerwise_ntk(params, x1, None if same else x2, output=output, **mlp_config)
    apply_fn = _check_network(apply_fn, params, x1)
    if strategy == "auto":
        plans = _plans_for(apply_fn, params, x1, x2, output, same, chunk)
        return plans[_choose(plans)]["compiled"](params, x1, x2)
    if strategy == "jacobian":
        return _ntk_jacobian(apply_fn, params, x1, x2, output, same)
    return _ntk_products(apply_fn, params, x1, x2, output, chunk)


def layerwise_ntk(params, x1, x2=None, *, activation="relu", beta=0.0, output="full") -> jax.Array:
    """The empirical NTK of a :mod:`ntkbook.mlp` network from its layer structure:

        K(x, x')_{ij} = sum_{l=0}^{L-1} (A^(l)(x)·A^(l)(x') / n_l + β^2) (δ^(l+1)(x) δ^(l+1)(x')^T)_{ij},

    with ``A^(l)`` the input of affine map ``l`` and ``δ^(l+1) = ∂f/∂Ã^(l+1)`` (:func:`sensitivities`).
    Same shapes and ``output`` options as :func:`empirical_ntk`.

    References: :cite:`jacot2018ntk` (the recursion behind it), :cite:`weng2022ntk`.
    """
    output = _check_output(output)
    same = x2 is None
    x1, x2 = _check_batches(x1, x2)
    _mlp.widths_of(params)
    _act.get(activation, "activation")
    beta = _mlp._check_beta(beta)
    return _ntk_layerwise(params, x1, x2, output, activation, beta, same)


def mlp_ntk(params, x1, x2=None, *, activation="relu", beta=0.0, strategy="auto", output="full") -> jax.Array:
    """The empirical NTK of the :mod:`ntkbook.mlp` network with ``activation`` and ``beta``, by any strategy."""
    try:
        fn = _mlp_apply_fn(activation, beta)
    except TypeError:  # unhashable (e.g. traced) beta: a fresh function, compiled per call
        fn = lambda p, x: _mlp.apply(p, x, activation=activation, beta=beta)  # noqa: E731
    return empirical_ntk(fn, params, x1, x2, strategy=strategy, output=output, mlp_config=dict(activation=activation, beta=beta))


@functools.lru_cache(maxsize=64)
def _mlp_apply_fn(activation, beta):
    # One function object per (activation, beta): it is a static argument of the jitted strategies,
    # so a fresh lambda per call would recompile every time.
    return lambda p, x: _mlp.apply(p, x, activation=activation, beta=beta)


def feature_map(apply_fn: ApplyFn, params: Any, x: jax.Array) -> jax.Array:
    """The NTK feature map ``φ(x) = ∇_θ f(x)`` of every input, flattened: shape ``(N, P, n_L)``,
    so that ``K(x_a, x_b) = φ(x_a)^T φ(x_b)``."""
    x = as_array(x, "x", ndim=2)
    return _feature_map(_check_network(apply_fn, params, x), params, x)


@functools.partial(jax.jit, static_argnums=0)
def _feature_map(apply_fn, params, x):
    return jnp.transpose(_jacobians(apply_fn, params, x), (0, 2, 1))


# --------------------------------------------------------------------------- losses and gradient flow


def mse_loss(f: jax.Array, y: jax.Array) -> jax.Array:
    """Per-sample squared error ``l(f, y) = |f - y|^2 / 2``; ``f, y`` of shape ``(n_L,)``."""
    return 0.5 * jnp.sum((f - y) ** 2)


def cross_entropy_loss(f: jax.Array, y: jax.Array) -> jax.Array:
    """Per-sample softmax cross-entropy ``l(f, y) = log sum_k exp f_k - f_y``; ``f`` of shape
    ``(n_L,)`` (logits), ``y`` an integer class label in ``[0, n_L)``: a loss that is not quadratic in ``f``."""
    return jax.nn.logsumexp(f) - f[y]


LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


def empirical_loss(apply_fn: ApplyFn, params: Any, x: jax.Array, y: jax.Array, loss: Callable = mse_loss) -> jax.Array:
    """``L(θ) = (1/N) sum_i l(f(x_i; θ), y_i)`` for a batch ``x`` ``(N, n_0)`` and labels ``y`` (``N`` rows)."""
    f = apply_fn(params, x)
    return jnp.mean(jax.vmap(loss)(f, y))


def loss_output_gradients(apply_fn: ApplyFn, params: Any, x: jax.Array, y: jax.Array, loss: Callable = mse_loss) -> jax.Array:
    """``∇_f l(f(x_i), y_i)`` for every sample: shape ``(N, n_L)``."""
    f = apply_fn(params, x)
    return jax.vmap(jax.grad(loss))(f, y)


def kernel_output_velocity(kernel: jax.Array, grads: jax.Array) -> jax.Array:
    """The right side of the output ODE, ``df(x)/dt = -(1/N) sum_i K(x, x_i) ∇_f l_i``.

    Args:
      kernel: ``K(x_a, x_i)`` of shape ``(M, N, n_L, n_L)`` (``output="full"``).
      grads: ``∇_f l_i`` of shape ``(N, n_L)``.

    Returns:
      ``(M, n_L)``.
    """
    kernel = as_array(kernel, "kernel", ndim=4)
    grads = as_array(grads, "grads", ndim=2)
    if kernel.shape[1] != grads.shape[0] or kernel.shape[3] != grads.shape[1] or kernel.shape[2] != kernel.shape[3]:
        raise ValueError(f"kernel (M, N, n_L, n_L) and grads (N, n_L) must match, got {kernel.shape} and {grads.shape}")
    return -jnp.einsum("aiuv,iv->au", kernel, grads) / grads.shape[0]


def gd_step_remainder(apply_fn, params, x_train, y_train, x_test, etas, loss: Callable = mse_loss, *, kernel=None) -> np.ndarray:
    """For each step size ``η``: ``max |f(x; θ - η ∇L) - f(x; θ) + (η/N) sum_i K(x, x_i) ∇_f l_i|``
    over the test inputs -- the part of one gradient-descent step on the outputs that the NTK does
    not predict (``O(η^2)``). ``kernel``: ``K(x_test, x_train)`` if already computed
    (``(M, N, n_L, n_L)``). Returns shape ``(len(etas),)``."""
    K = empirical_ntk(apply_fn, params, x_test, x_train, strategy="jacobian") if kernel is None else kernel
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    return np.asarray(_gd_step_remainder(apply_fn, loss, params, x_train, y_train, x_test, K, jnp.asarray(etas, dtype=dtype)))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _gd_step_remainder(apply_fn, loss, params, x_train, y_train, x_test, K, etas):
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    grad = jax.grad(lambda p: empirical_loss(apply_fn, p, x_train, y_train, loss))(params)
    gflat, _ = jax.flatten_util.ravel_pytree(grad)
    velocity = kernel_output_velocity(K, loss_output_gradients(apply_fn, params, x_train, y_train, loss))
    f0 = apply_fn(params, x_test)
    return jax.vmap(lambda eta: jnp.max(jnp.abs(apply_fn(unravel(flat - eta * gflat), x_test) - f0 - eta * velocity)))(etas)


# --------------------------------------------------------------------------- the chapter's claims

from .claims import check_close, check_slope, claim, shown  # noqa: E402

# Agreement of two float64 computations of K: each entry is a sum of P products of Jacobian entries,
# taken in a different order (and, layerwise, factored differently). With u = 2^-53 the summation
# error is at most ~P u max|K| (|J_ip J_jp| summed is <= (K_ii + K_jj)/2 <= max|K|); P <= 1500 here
# gives ~2e-13, plus a few ulps from the Jacobian entries themselves: 1e-12 relative to max|K|.
_NTK_TOL = 1e-12


def _setup(widths=(3, 24, 16, 2), *, key=0, n1=6, n2=5, activation="tanh", beta=0.5):
    params = _mlp.init(jax.random.key(key), widths)
    x1 = _mlp.standard_normal(jax.random.key(key + 1), (n1, widths[0]))
    x2 = _mlp.standard_normal(jax.random.key(key + 2), (n2, widths[0]))
    # One function object per (activation, beta), shared by the claims: it is a static argument of
    # the jitted strategies, so a fresh lambda per set-up would compile them again for every claim.
    return params, x1, x2, _mlp_apply_fn(activation, beta)


@functools.partial(jax.jit, static_argnums=0)
def _flat_jacobian_fwd(fn, params, x):
    """An independent route to J: forward mode (``jacfwd``) over the flattened parameter vector, ``(N, o, P)``."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return jax.vmap(lambda xi: jax.jacfwd(lambda t: fn(unravel(t), xi[None])[0])(flat))(x)


@claim(CHAPTER, "The Jacobian-contraction, NTK-vector-product and layerwise computations of K agree",
       equation="eq-ntk-layerwise")
def check_strategies_agree():
    results = []
    for act, beta, widths in (("relu", 0.0, (3, 24, 16, 2)), ("erf", 1.0, (4, 32, 3)), ("gelu", 0.2, (2, 16, 16, 16, 2))):
        params, x1, x2, fn = _setup(widths, activation=act, beta=beta)
        cfg = dict(activation=act, beta=beta)
        ref = empirical_ntk(fn, params, x1, x2, strategy="jacobian")
        for strat in ("products", "layerwise"):
            K = empirical_ntk(fn, params, x1, x2, strategy=strat, mlp_config=cfg)
            results.append(check_close(f"{act}, beta={beta}, widths {widths}: '{strat}' vs 'jacobian' (relative to max|K|)",
                                       K, ref, atol=_NTK_TOL, relative=True))
        Ktr = empirical_ntk(fn, params, x1, x2, strategy="layerwise", mlp_config=cfg, output="trace")
        results.append(check_close(f"{act}: output='trace' (layerwise) vs the trace of the full K",
                                   Ktr, jnp.trace(ref, axis1=2, axis2=3), atol=_NTK_TOL, relative=True))
    return results


@claim(CHAPTER, "K_mn(x, x') = sum_p (d f_m(x)/d theta_p)(d f_n(x')/d theta_p), and K(x, x')^T = K(x', x)",
       equation="eq-ntk-entry", source_holds=True, where="Neural Tangent Kernel, entrywise formula")
def check_entrywise_formula():
    params, x1, x2, fn = _setup()
    J1 = np.asarray(_flat_jacobian_fwd(fn, params, x1))  # (N1, o, P) by forward mode
    J2 = np.asarray(_flat_jacobian_fwd(fn, params, x2))
    P = J1.shape[2]
    explicit = np.zeros((x1.shape[0], x2.shape[0], 2, 2))
    for p in range(P):  # the sum over parameters, one parameter at a time, as the formula reads
        explicit += J1[:, None, :, None, p] * J2[None, :, None, :, p]
    K12 = empirical_ntk(fn, params, x1, x2)
    K21 = empirical_ntk(fn, params, x2, x1)
    return [
        check_close(f"empirical_ntk vs the explicit sum over all P = {P} parameters (forward-mode Jacobians)",
                    K12, explicit, atol=_NTK_TOL, relative=True),
        check_close("K(x, x') vs K(x', x)^T", K12, jnp.transpose(K21, (1, 0, 3, 2)), atol=_NTK_TOL, relative=True),
    ]


@claim(CHAPTER, "The per-sample cost l takes the input space R^{n_0} as its first argument", equation="eq-loss",
       source_holds=False, where="Neural Tangent Kernel, definition of the empirical loss",
       source_says="a per-sample cost l : R^{n_0} x R^{n_L} -> R_+, used as l(f(x^(i); theta), y^(i))",
       truth="l is applied to the network output f(x) in R^{n_L} and a label y: l : R^{n_L} x Y -> R_+ "
             "(Y = R^{n_L} for regression, the class labels for classification); so nabla_f l has size n_L x 1 as "
             "the source itself writes")
def check_cost_signature():
    params, x1, _, fn = _setup((3, 24, 16, 2))
    first_argument = fn(params, x1)[0]
    return check_close("dimension of the first argument passed to l (f(x) in R^{n_L}) vs n_0 = 3 (as written)",
                       first_argument.shape[0], x1.shape[1], atol=0, expect=False)


@functools.partial(jax.jit, static_argnums=(0, 4))
def _loss_gradient_routes(fn, params, x, y, loss):
    """``∇_θ L`` by autodiff (flattened, ``(P,)``), the per-input Jacobians ``J`` ``(N, n_L, P)``
    (``∇_θ f(x_i) = J_i^T`` is ``P x n_L``) and ``∇_f l`` ``(N, n_L)`` (``n_L x 1`` per sample)."""
    autodiff, _ = jax.flatten_util.ravel_pytree(jax.grad(lambda p: empirical_loss(fn, p, x, y, loss))(params))
    return autodiff, _jacobians(fn, params, x), loss_output_gradients(fn, params, x, y, loss)


@claim(CHAPTER, "With l : R^{n_L} x Y -> R_+, grad_theta L = (1/N) sum_i grad_theta f(x_i) grad_f l_i "
       "(sizes P x n_L times n_L x 1)", equation="eq-loss-grad", source_holds=True,
       where="Neural Tangent Kernel, gradient of the loss")
def check_loss_gradient():
    params, x, _, fn = _setup(n1=8)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    results = []
    for name, loss in LOSSES.items():
        autodiff, J, g = _loss_gradient_routes(fn, params, x, ys[name], loss)
        chain = jnp.mean(jnp.einsum("aip,ai->ap", J, g), axis=0)
        results.append(check_close(f"{name}: jax.grad of L vs (1/N) sum_i J_i^T grad_f l_i, P = {J.shape[2]}, N = 8",
                                   chain, autodiff, atol=_NTK_TOL, relative=True,
                                   detail=f"grad_theta f(x_i): {J.shape[2]} x {J.shape[1]}, grad_f l: {g.shape[1]} x 1"))
    return results


@functools.partial(jax.jit, static_argnums=(0, 5))
def _output_velocity_routes(fn, params, x, xt, y, loss):
    """``df(xt)/dt`` under gradient flow by the chain rule (a ``jvp`` along ``dθ/dt = -∇_θ L``), ``(M, n_L)``,
    and the loss gradients ``∇_f l_i`` of the training set, ``(N, n_L)``."""
    theta_dot = jax.tree_util.tree_map(jnp.negative, jax.grad(lambda p: empirical_loss(fn, p, x, y, loss))(params))
    _, f_dot = jax.jvp(lambda p: fn(p, xt), (params,), (theta_dot,))  # chain rule: (df/dtheta) (dtheta/dt)
    return f_dot, loss_output_gradients(fn, params, x, y, loss)


@claim(CHAPTER, "Under gradient flow d theta/dt = -grad L the outputs move by df(x)/dt = -(1/N) sum_i K(x, x_i) grad_f l_i",
       equation="eq-output-ode", source_holds=True, where="Neural Tangent Kernel, output dynamics")
def check_output_ode():
    params, x, xt, fn = _setup(n1=8, n2=5)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    results = []
    K = empirical_ntk(fn, params, xt, x)
    for name, loss in LOSSES.items():
        f_dot, grads = _output_velocity_routes(fn, params, x, xt, ys[name], loss)
        predicted = kernel_output_velocity(K, grads)
        results.append(check_close(f"{name}: df/dt by the chain rule (jvp) vs -(1/N) sum_i K(x, x_i) grad_f l_i on 5 new inputs",
                                   predicted, f_dot, atol=_NTK_TOL, relative=True))
    return results


ETAS = np.logspace(-4, -1, 7)
# The remainder is a difference of O(1) outputs, each rounded to a few eps: it moves by < 7e-16 between
# XLA's AVX-512 and SSE4.2 code (measured); 1e-14 bounds that with a margin (claims.slope_noise).
REMAINDER_NOISE = 1e-14


@functools.lru_cache(maxsize=None)
def gd_remainders() -> dict:
    """The remainders of :func:`gd_step_remainder` over :data:`ETAS`, for MSE and cross-entropy
    (tanh network (3, 24, 16, 2), beta = 0.5, 8 training and 5 test inputs)."""
    params, x, xt, fn = _setup(n1=8, n2=5)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    K = empirical_ntk(fn, params, xt, x, strategy="jacobian")
    return {name: gd_step_remainder(fn, params, x, ys[name], xt, ETAS, loss, kernel=K) for name, loss in LOSSES.items()}


@claim(CHAPTER, "One gradient-descent step of size eta changes the outputs by -(eta/N) sum_i K(x, x_i) grad_f l_i + O(eta^2)",
       equation="eq-gd-step")
def check_gd_step():
    rem = gd_remainders()
    # the remainder is c2 eta^2 + c3 eta^3 + ...; over eta in [1e-4, 1e-1] the cubic term shifts the fitted
    # slope by at most ~ eta_max c3/c2 (measured ~0.01 here); 0.1 allows for that, rounding is ~1e-16 << 1e-9
    return [check_slope(f"{name}: log-log slope of the remainder vs eta in [1e-4, 1e-1] is 2", ETAS, r, 2.0, atol=0.1,
                        y_noise=REMAINDER_NOISE)
            for name, r in rem.items()]


@claim(CHAPTER, "K(x, x') = phi(x)^T phi(x') with phi(x) = grad_theta f(x), so the batch kernel is a PSD Gram matrix",
       equation="eq-feature-map", source_holds=True, where="Neural Tangent Kernel, feature map")
def check_feature_map_psd():
    results = []
    for widths, n in (((3, 24, 16, 2), 12), ((2, 3, 2), 20)):
        params, x, _, fn = _setup(widths, n1=n)
        phi = feature_map(fn, params, x)  # (N, P, o)
        K = empirical_ntk(fn, params, x, strategy="layerwise", mlp_config=dict(activation="tanh", beta=0.5))
        gram = jnp.einsum("apu,bpv->abuv", phi, phi)
        results.append(check_close(f"widths {widths}: K vs phi(x)^T phi(x') from the feature map", K, gram, atol=_NTK_TOL, relative=True))
        o = widths[-1]
        M = np.asarray(jnp.reshape(jnp.transpose(K, (0, 2, 1, 3)), (n * o, n * o)))
        eig = np.linalg.eigvalsh((M + M.T) / 2)
        P = phi.shape[1]
        # eigenvalues of a PSD matrix computed in float64 can dip below 0 by ~ size * u * lambda_max
        tol = n * o * 2.0**-52 * float(eig[-1])
        results.append(check_close(f"widths {widths}, N = {n}: smallest eigenvalue of the {n * o} x {n * o} Gram matrix is >= 0",
                                   min(float(eig[0]), 0.0), 0.0, atol=tol,
                                   detail=f"lambda_min {shown(eig[0], tol)}, lambda_max {shown(eig[-1], tol, 3, 'g')}, P = {P}"))
        if P < n * o:
            rank = int(np.sum(eig > tol))
            results.append(check_close(f"widths {widths}: rank of the Gram matrix is at most P = {P} < N n_L = {n * o}",
                                       min(rank, P), rank, atol=0, detail=f"rank {rank}"))
    return results
