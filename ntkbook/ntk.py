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

``strategy="auto"`` picks ``"layerwise"`` when an ``mlp_config`` is given, else
``"jacobian"`` when the two Jacobians fit in :data:`JACOBIAN_MEMORY_BUDGET` bytes, else
``"products"``.

References: :cite:`jacot2018ntk`, :cite:`weng2022ntk`, :cite:`novak2022fast`, :cite:`lee2019wide`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
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
    "choose_strategy",
    "empirical_ntk",
    "feature_map",
    "layerwise_ntk",
    "mlp_ntk",
    "strategy_cost",
]

STRATEGIES = ("auto", "jacobian", "products", "layerwise")
OUTPUTS = ("full", "trace", "diagonal")
JACOBIAN_MEMORY_BUDGET = 2**28  # bytes (256 MiB) for the two batch Jacobians of "jacobian"

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


def _single(apply_fn):
    """``f(params, x)`` for one input ``x`` of shape ``(n_0,)`` -> ``(n_L,)``."""
    return lambda params, x: apply_fn(params, x[None, :])[0]


def _finish(full_or_parts, output):
    return full_or_parts


# --------------------------------------------------------------------------- strategies


def _jacobians(apply_fn, params, x):
    """Per-input Jacobians ``∂f(x_a)/∂θ``, flattened: ``(N, o, P)``."""
    jac = jax.vmap(jax.jacrev(_single(apply_fn)), in_axes=(None, 0))(params, x)
    leaves = jax.tree_util.tree_leaves(jac)
    n, o = leaves[0].shape[:2]
    return jnp.concatenate([jnp.reshape(l, (n, o, -1)) for l in leaves], axis=2)


def _contract(j1, j2, output):
    if output == "full":
        return jnp.einsum("aip,bjp->abij", j1, j2)
    if output == "diagonal":
        return jnp.einsum("aip,bip->abi", j1, j2)
    return jnp.einsum("aip,bip->ab", j1, j2)


def _ntk_jacobian(apply_fn, params, x1, x2, output, same):
    j1 = _jacobians(apply_fn, params, x1)
    j2 = j1 if same else _jacobians(apply_fn, params, x2)
    return _contract(j1, j2, output)


def _ntk_products(apply_fn, params, x1, x2, output, chunk):
    f1 = lambda p: apply_fn(p, x1)  # noqa: E731  (N1, o)
    single = _single(apply_fn)
    n2 = x2.shape[0]
    o = _output_dim(apply_fn, params, x1)
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


def _ntk_layerwise(params, x1, x2, output, activation, beta, same):
    fwd1, d1 = sensitivities(params, x1, activation=activation, beta=beta)
    fwd2, d2 = (fwd1, d1) if same else sensitivities(params, x2, activation=activation, beta=beta)
    beta = float(beta)
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


def choose_strategy(*, n1: int, n2: int, n_out: int, num_params: int, itemsize: int = 8, mlp: bool = False) -> str:
    """The ``"auto"`` rule: ``"layerwise"`` for mlp networks, else ``"jacobian"`` when the two
    Jacobians (``(n1 + n2) n_out P`` floats) fit in :data:`JACOBIAN_MEMORY_BUDGET`, else ``"products"``."""
    if mlp:
        return "layerwise"
    return "jacobian" if (n1 + n2) * n_out * num_params * itemsize <= JACOBIAN_MEMORY_BUDGET else "products"


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
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params)
    o = _output_dim(apply_fn, params, x1)
    if strategy == "auto":
        P = sum(int(np.size(l)) for l in jax.tree_util.tree_leaves(params))
        itemsize = jnp.asarray(jax.tree_util.tree_leaves(params)[0]).dtype.itemsize
        strategy = choose_strategy(n1=x1.shape[0], n2=x2.shape[0], n_out=o, num_params=P, itemsize=itemsize)
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
    return _ntk_layerwise(params, x1, x2, output, activation, beta, same)


def mlp_ntk(params, x1, x2=None, *, activation="relu", beta=0.0, strategy="auto", output="full") -> jax.Array:
    """The empirical NTK of the :mod:`ntkbook.mlp` network with ``activation`` and ``beta``, by any strategy."""
    fn = lambda p, x: _mlp.apply(p, x, activation=activation, beta=beta)  # noqa: E731
    return empirical_ntk(fn, params, x1, x2, strategy=strategy, output=output, mlp_config=dict(activation=activation, beta=beta))


def feature_map(apply_fn: ApplyFn, params: Any, x: jax.Array) -> jax.Array:
    """The NTK feature map ``φ(x) = ∇_θ f(x)`` of every input, flattened: shape ``(N, P, n_L)``,
    so that ``K(x_a, x_b) = φ(x_a)^T φ(x_b)``."""
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params)
    x = as_array(x, "x", ndim=2)
    _output_dim(apply_fn, params, x)
    return jnp.transpose(_jacobians(apply_fn, params, x), (0, 2, 1))
