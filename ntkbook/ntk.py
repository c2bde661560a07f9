"""The empirical Neural Tangent Kernel of any network, and the NTK's equation of gradient flow
(chapter 8 of the book).

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
``JACOBIAN_MEMORY_BUDGET`` bytes. The time model behind it (``TIME_MODEL``) lives in
``ntkbook._strategy``.

Under gradient flow ``dθ/dt = -∇_θ L`` on ``L(θ) = (1/N) sum_i l(f(x_i; θ), y_i)`` the outputs move by
``df(x)/dt = -(1/N) sum_i K(x, x_i) ∇_f l_i`` (:func:`kernel_output_velocity`).

References: :cite:`jacot2018ntk`, :cite:`weng2022ntk`, :cite:`novak2022fast`, :cite:`lee2019wide`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from . import _strategy
from . import activations as _act
from . import mlp as _mlp
from ._strategy import JACOBIAN_MEMORY_BUDGET, TIME_MODEL
from .validate import as_array, as_callable, nonnegative_float, positive_int

__all__ = [
    "JACOBIAN_MEMORY_BUDGET",
    "OUTPUTS",
    "STRATEGIES",
    "TIME_MODEL",
    "choose_strategy",
    "empirical_ntk",
    "feature_map",
    "kernel_output_velocity",
    "layerwise_ntk",
    "mlp_apply_fn",
    "mlp_ntk",
    "sensitivities",
    "strategy_cost",
    "strategy_estimates",
]

STRATEGIES = ("auto", "jacobian", "products", "layerwise")
OUTPUTS = ("full", "trace", "diagonal")

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
        raise ValueError(
            f"apply_fn must map a batch (N, n_0) to (N, n_L), got output shape {getattr(out, 'shape', out)} for x1 of shape {x1.shape}"
        )
    return int(out.shape[1])


def _check_network(apply_fn, params, x):
    """``apply_fn`` checked to be callable, ``params`` a pytree of floating arrays, and ``apply_fn(params, x)``
    of shape ``(N, n_L)``: the checked ``apply_fn``."""
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params)
    _output_dim(apply_fn, params, x)
    return apply_fn


def _single(apply_fn):
    """``f(params, x)`` of shape ``(n_L,)`` for one input ``x`` of shape ``(n_0,)``."""
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
    widths, x, sigma, beta = _mlp.check_arguments(params, x, activation, beta)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, n_0), got {x.shape}")
    fwd = _mlp.forward_unchecked(params, x, sigma, beta)

    def f_perturbed(eps, xi):
        a = xi
        L = len(params)
        for l, layer in enumerate(params):
            z = (
                a @ layer["w"] / jnp.sqrt(jnp.asarray(layer["w"].shape[0], layer["w"].dtype))
                + beta * layer["b"]
                + eps[l]
            )
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


def strategy_cost(
    strategy: str, *, n1: int, n2: int, n_out: int, num_params: int, widths=None, output: str = "full"
) -> dict:
    """Leading-order FLOPs and memory (floats) of one strategy (see the module docstring).

    ``widths`` (``(n_0, ..., n_L)``) is needed for ``"layerwise"``. ``F = 2 P`` is taken as the
    cost of one forward pass for one input.
    """
    if strategy not in STRATEGIES[1:]:
        raise ValueError(f"strategy must be one of 'jacobian', 'products', 'layerwise', got {strategy!r}")
    _check_output(output)
    n1, n2, o, P = (
        positive_int(v, k) for v, k in ((n1, "n1"), (n2, "n2"), (n_out, "n_out"), (num_params, "num_params"))
    )
    if strategy == "layerwise":
        if widths is None:
            raise ValueError("widths must be given for the 'layerwise' strategy cost")
        widths = _mlp.check_widths(widths)
    return _strategy.closed_form_cost(strategy, n1, n2, o, P, widths if strategy == "layerwise" else None, output)


# The two generic programs, handed to the time model of the automatic choice (ntkbook._strategy).
_PROGRAMS = (_ntk_jacobian, _ntk_products)


def strategy_estimates(
    apply_fn: ApplyFn, params: Any, x1: jax.Array, x2: jax.Array | None = None, *, output: str = "full", chunk: int = 64
) -> dict[str, dict]:
    """What the automatic choice sees. For ``"jacobian"`` and ``"products"``: XLA's count of the FLOPs and bytes
    accessed by the compiled program (``jax.jit(...).lower(...).compile().cost_analysis()``; nothing is run)
    and the predicted seconds of one call by ``TIME_MODEL``; for ``"jacobian"`` also the bytes of its batch
    Jacobians (``jacobian_bytes``, against ``JACOBIAN_MEMORY_BUDGET``).

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
    return _strategy.estimates(_strategy.plans(_PROGRAMS, apply_fn, params, x1, x2, output, same, chunk))


def choose_strategy(
    apply_fn: ApplyFn,
    params: Any,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    output: str = "full",
    chunk: int = 64,
    mlp_config: dict | None = None,
) -> str:
    """The ``"auto"`` rule of :func:`empirical_ntk` (same arguments): ``"layerwise"`` when ``mlp_config`` is
    given; else ``"products"`` when the batch Jacobians would exceed ``JACOBIAN_MEMORY_BUDGET``; else the
    faster of ``"jacobian"`` and ``"products"`` as predicted from XLA's FLOP and byte counts of the two
    programs (:func:`strategy_estimates`). ``make bench`` checks the choice against measured times.
    """
    if mlp_config is not None:
        return "layerwise"
    return _strategy.choose(strategy_estimates(apply_fn, params, x1, x2, output=output, chunk=chunk))


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
      output: ``"full"`` gives ``(N1, N2, n_L, n_L)`` with ``K[a, b, i, j] = ∂f_i(x1_a)/∂θ · ∂f_j(x2_b)/∂θ``;
        ``"diagonal"`` gives ``(N1, N2, n_L)`` (the entries ``i = j``); ``"trace"`` gives ``(N1, N2)``
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
        raise ValueError(
            "strategy='layerwise' needs mlp_config=dict(activation=..., beta=...) (networks of ntkbook.mlp only)"
        )
    if strategy == "layerwise" or (strategy == "auto" and mlp_config is not None):
        return layerwise_ntk(params, x1, None if same else x2, output=output, **mlp_config)
    apply_fn = _check_network(apply_fn, params, x1)
    if strategy == "auto":
        plans = _strategy.plans(_PROGRAMS, apply_fn, params, x1, x2, output, same, chunk)
        return plans[_strategy.choose(plans)]["compiled"](params, x1, x2)
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
    beta = nonnegative_float(beta, "beta")
    return _ntk_layerwise(params, x1, x2, output, activation, beta, same)


def mlp_ntk(params, x1, x2=None, *, activation="relu", beta=0.0, strategy="auto", output="full") -> jax.Array:
    """The empirical NTK of the :mod:`ntkbook.mlp` network with ``activation`` and ``beta``, by any strategy."""
    try:
        fn = mlp_apply_fn(activation, beta)
    except TypeError:  # unhashable (e.g. traced) beta: a fresh function, compiled per call
        fn = lambda p, x: _mlp.apply(p, x, activation=activation, beta=beta)  # noqa: E731
    return empirical_ntk(
        fn, params, x1, x2, strategy=strategy, output=output, mlp_config=dict(activation=activation, beta=beta)
    )


@functools.lru_cache(maxsize=64)
def mlp_apply_fn(activation: Any = "relu", beta: float = 0.0) -> ApplyFn:
    """The :mod:`ntkbook.mlp` network with ``activation`` and ``beta`` as an ``apply_fn(params, x)``
    for :func:`empirical_ntk`: ``(N, n_0)`` to ``(N, n_L)``.

    One function object per ``(activation, beta)`` (both hashable; cached): it is a static argument of
    the jitted strategies, so a fresh lambda per call would compile them again every time.
    """
    return lambda p, x: _mlp.apply(p, x, activation=activation, beta=beta)


def feature_map(apply_fn: ApplyFn, params: Any, x: jax.Array) -> jax.Array:
    """The NTK feature map ``φ(x) = ∇_θ f(x)`` of every input, flattened: shape ``(N, P, n_L)``,
    so that ``K(x_a, x_b) = φ(x_a)^T φ(x_b)``."""
    x = as_array(x, "x", ndim=2)
    return _feature_map(_check_network(apply_fn, params, x), params, x)


@functools.partial(jax.jit, static_argnums=0)
def _feature_map(apply_fn, params, x):
    return jnp.transpose(_jacobians(apply_fn, params, x), (0, 2, 1))


# --------------------------------------------------------------------------- gradient flow


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
