"""Linearized models: a network's first-order Taylor expansion in its parameters, gradient descent
on the MSE loss for either, and the closed-form dynamics of a model trained with a constant kernel.

Conventions (kept the same everywhere in this module):

* the training set ``X`` has ``N`` inputs, the targets ``Y`` shape ``(N, n_L)``;
* the empirical loss is ``L(θ) = (1/N) sum_i ½ ||f(x_i; θ) - y_i||²`` (:func:`mse_loss`), so
  ``∇_f L = (f(X) - Y) / N`` and ``∇_θ L = J^T (f(X) - Y) / N`` with ``J = ∂f(X)/∂θ``
  (``N n_L x P``);
* gradient descent with step ``η``: ``θ_{s+1} = θ_s - η ∇_θ L(θ_s)``; its continuous-time
  version, *gradient flow*, is ``dθ/dt = -η ∇_θ L(θ)``, so that ``t`` is measured in steps;
* the kernel on the training set is ``K = J J^T`` (``N n_L x N n_L``), given either as the
  ``(N, N)`` matrix of a kernel that is the same for every output (``K ⊗ I_{n_L}``, as in the
  infinite-width limit) or in full, ``(N, N, n_L, n_L)``.

Under these conventions the linearized network ``f_lin(θ) = f(θ_0) + J (θ - θ_0)`` has, exactly,

    gradient flow:     f_t = Y + exp(-η K t / N) (f_0 - Y)
    gradient descent:  f_t = Y + (I - η K / N)^t (f_0 - Y)
    test inputs:       f_t(x*) = f_0(x*) - K(x*, X) K^{-1} (I - D_t) (f_0 - Y),

with ``D_t`` the decay matrix of the line above (:func:`mse_dynamics`); ``K^{-1}(I - D_t)`` is a
function of ``K`` that stays finite where ``K`` is singular (:func:`spectral_factors`). With the
infinite-width NNGP and NTK kernels this gives the mean and covariance of the trained infinitely
wide network over random initializations (:func:`ntk_gp`).

References: :cite:`lee2019wide`, :cite:`jacot2018ntk`, :cite:`weng2022ntk` (Linearized models).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .validate import as_array, as_callable, is_concrete, positive_float, positive_int

__all__ = [
    "Trajectory",
    "linearize",
    "mse_dynamics",
    "mse_loss",
    "ntk_gp",
    "spectral_factors",
    "train",
]

ApplyFn = Callable[[Any, jax.Array], jax.Array]


# --------------------------------------------------------------------------- validation helpers


def _check_params(params: Any, name: str) -> list:
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise TypeError(f"{name} must be a non-empty pytree of arrays, got {type(params).__name__}")
    for leaf in leaves:
        if not hasattr(leaf, "dtype") or not jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating):
            raise TypeError(f"{name} must hold floating arrays, got a leaf of type {type(leaf).__name__}")
    return leaves


def _output_shape(apply_fn: ApplyFn, params: Any, x: jax.Array, name: str = "apply_fn") -> tuple[int, ...]:
    out = jax.eval_shape(apply_fn, params, x)
    if not hasattr(out, "shape") or len(out.shape) != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"{name}(params, x) must map x of shape (N, n_0) = {x.shape} to (N, n_L), "
            f"got {getattr(out, 'shape', type(out).__name__)}"
        )
    return tuple(out.shape)


def _targets(y: Any, name: str, n: int, n_out: int) -> jax.Array:
    y = as_array(y, name, ndim=2)
    if y.shape != (n, n_out):
        raise ValueError(
            f"{name} must have shape (N, n_L) = {(n, n_out)} to match the inputs and the network output, got {y.shape}"
        )
    return y


# --------------------------------------------------------------------------- the linearized network


def linearize(apply_fn: ApplyFn, params0: Any) -> ApplyFn:
    """The first-order Taylor expansion of a network in its parameters, around ``params0``.

    .. math:: f_{\\rm lin}(x; θ) = f(x; θ_0) + ∇_θ f(x; θ_0)^\\top (θ - θ_0) = f(x; θ_0) + J(x)(θ - θ_0)

    computed as one Jacobian-vector product (``jax.jvp``): the Jacobian ``J`` (``n_L x P`` per
    input) is never formed.

    Args:
      apply_fn: ``apply_fn(params, x)``, a batch ``(N, n_0)`` to ``(N, n_L)``; JAX-traceable.
      params0: the expansion point ``θ_0`` (a pytree of floating arrays).

    Returns:
      ``apply_lin(params, x)`` with the signature of ``apply_fn``; ``params`` must have the tree
      structure and shapes of ``params0``.

    References: :cite:`lee2019wide` (eq. 5), :cite:`weng2022ntk`.
    """
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params0, "params0")
    tree0 = jax.tree_util.tree_structure(params0)
    shapes0 = [jnp.shape(l) for l in jax.tree_util.tree_leaves(params0)]

    def apply_lin(params, x):
        if (
            jax.tree_util.tree_structure(params) != tree0
            or [jnp.shape(l) for l in jax.tree_util.tree_leaves(params)] != shapes0
        ):
            raise ValueError("params must have the tree structure and leaf shapes of params0 given to linearize")
        delta = jax.tree_util.tree_map(lambda p, p0: p - p0, params, params0)
        f0, df = jax.jvp(lambda p: apply_fn(p, x), (params0,), (delta,))
        return f0 + df

    return apply_lin


def mse_loss(outputs: jax.Array, targets: jax.Array) -> jax.Array:
    """``L = (1/N) sum_i ½ ||f_i - y_i||²`` for outputs and targets of shape ``(N, n_L)`` (a scalar)."""
    outputs = as_array(outputs, "outputs", ndim=2, finite=False)
    targets = as_array(targets, "targets", ndim=2, finite=False)
    if outputs.shape != targets.shape:
        raise ValueError(
            f"outputs and targets must have the same shape (N, n_L), got {outputs.shape} and {targets.shape}"
        )
    return 0.5 * jnp.sum((outputs - targets) ** 2) / outputs.shape[0]


def _mse(f, y):
    return 0.5 * jnp.sum((f - y) ** 2) / f.shape[0]


class Trajectory(NamedTuple):
    """Gradient-descent trajectory recorded every ``record_every`` steps (``R = steps/record_every + 1`` records).

    Attributes:
      steps: the step numbers ``0, k, 2k, ..., steps``, shape ``(R,)``.
      train_outputs: ``f(X; θ_t)``, shape ``(R, N, n_L)``.
      train_loss: ``L(θ_t)``, shape ``(R,)``.
      test_outputs: ``f(X_test; θ_t)``, shape ``(R, M, n_L)`` (``None`` without ``x_test``).
      test_loss: the same loss on ``(X_test, Y_test)``, shape ``(R,)`` (``None`` without ``y_test``).
      params: the final parameters ``θ_steps``.
    """

    steps: jax.Array
    train_outputs: jax.Array
    train_loss: jax.Array
    test_outputs: jax.Array | None
    test_loss: jax.Array | None
    params: Any


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _train(apply_fn, steps, record_every, learning_rate, params0, x, y, x_test, y_test):
    grad = jax.grad(lambda p: _mse(apply_fn(p, x), y))

    def record(p):
        f = apply_fn(p, x)
        ft = apply_fn(p, x_test) if x_test is not None else None
        lt = _mse(ft, y_test) if y_test is not None else None
        return f, _mse(f, y), ft, lt

    def chunk(p, _):
        p = jax.lax.fori_loop(
            0, record_every, lambda _, q: jax.tree_util.tree_map(lambda a, g: a - learning_rate * g, q, grad(q)), p
        )
        return p, record(p)

    first = record(params0)
    params, rest = jax.lax.scan(chunk, params0, None, length=steps // record_every)
    stack = lambda a, b: None if a is None else jnp.concatenate([a[None], b])  # noqa: E731
    f, l, ft, lt = (stack(a, b) for a, b in zip(first, rest))
    return f, l, ft, lt, params


def train(
    apply_fn: ApplyFn,
    params0: Any,
    x: jax.Array,
    y: jax.Array,
    *,
    learning_rate: float,
    steps: int,
    record_every: int = 1,
    x_test: jax.Array | None = None,
    y_test: jax.Array | None = None,
) -> Trajectory:
    """Full-batch gradient descent on the MSE loss, ``θ_{s+1} = θ_s - η ∇_θ L(θ_s)``.

    Works for any ``apply_fn`` -- the network itself or :func:`linearize` of it -- and under
    ``jax.vmap`` over ``params0`` (a batch of initializations). The loop is one ``jax.lax.scan``
    inside ``jax.jit``.

    Args:
      apply_fn: ``apply_fn(params, x)``, ``(N, n_0) -> (N, n_L)``.
      params0: initial parameters ``θ_0``.
      x: training inputs ``(N, n_0)``; y: targets ``(N, n_L)`` (finite).
      learning_rate: the step ``η > 0``.
      steps: number of steps ``>= 1``, a multiple of ``record_every``.
      record_every: record outputs and losses every this many steps (and at step 0).
      x_test, y_test: optional test inputs ``(M, n_0)`` and targets ``(M, n_L)``.

    Returns:
      a :class:`Trajectory`.

    References: :cite:`lee2019wide`.
    """
    apply_fn = as_callable(apply_fn, "apply_fn")
    _check_params(params0, "params0")
    x = as_array(x, "x", ndim=2)
    n, n_out = _output_shape(apply_fn, params0, x)
    y = _targets(y, "y", n, n_out)
    learning_rate = positive_float(learning_rate, "learning_rate")
    steps = positive_int(steps, "steps")
    record_every = positive_int(record_every, "record_every")
    if steps % record_every:
        raise ValueError(f"steps must be a multiple of record_every = {record_every}, got {steps}")
    if x_test is not None:
        x_test = as_array(x_test, "x_test", ndim=2)
        if x_test.shape[1] != x.shape[1]:
            raise ValueError(f"x_test must have n_0 = {x.shape[1]} columns like x, got shape {x_test.shape}")
        if y_test is not None:
            y_test = _targets(y_test, "y_test", x_test.shape[0], n_out)
    elif y_test is not None:
        raise ValueError("y_test needs x_test")
    f, l, ft, lt, params = _train(apply_fn, steps, record_every, learning_rate, params0, x, y, x_test, y_test)
    return Trajectory(jnp.arange(0, steps + 1, record_every), f, l, ft, lt, params)


# --------------------------------------------------------------------------- closed forms


def _flatten_kernel(k: jax.Array, name: str, n1: int | None, n2: int | None, n_out: int) -> tuple[jax.Array, bool]:
    """A kernel ``(N1, N2)`` (scalar, ``⊗ I``) or ``(N1, N2, o, o)`` (full) -> matrix, and whether it is scalar."""
    k = as_array(k, name, ndim=(2, 4))
    if k.ndim == 4 and k.shape[2:] != (n_out, n_out):
        raise ValueError(f"{name} must have shape (N1, N2) or (N1, N2, n_L, n_L) with n_L = {n_out}, got {k.shape}")
    if (n1 is not None and k.shape[0] != n1) or (n2 is not None and k.shape[1] != n2):
        raise ValueError(f"{name} must have leading shape ({n1}, {n2}), got {k.shape}")
    if k.ndim == 2:
        return k, True
    return jnp.transpose(k, (0, 2, 1, 3)).reshape(k.shape[0] * n_out, k.shape[1] * n_out), False


def _spectral_factors(lam: jax.Array, a: float, t: jax.Array, discrete: bool) -> tuple[jax.Array, jax.Array]:
    """Per eigenvalue ``λ`` and time ``t``: the decay ``d(λ, t)`` and ``(1 - d(λ, t)) / λ`` (finite at ``λ = 0``)."""
    lt = lam[None, :]
    tt = t[:, None]
    if discrete:
        r = 1.0 - a * lt
        pos = r > 0
        log_r = jnp.log1p(-a * jnp.where(pos, lt, 0.0))
        even = jnp.mod(tt, 2) == 0
        power = jnp.where(pos, jnp.exp(tt * log_r), jnp.where(even, 1.0, -1.0) * jnp.abs(r) ** tt)
        one_minus = jnp.where(pos, -jnp.expm1(tt * log_r), 1.0 - power)
        decay = power
    else:
        decay = jnp.exp(-a * lt * tt)
        one_minus = -jnp.expm1(-a * lt * tt)
    # Eigenvalues at rounding level count as zero: those modes do not move (decay 1) and their
    # resolvent is a t for finite t; at t = inf it is set to 0 (the pseudo-inverse), which is the
    # limit whenever K(x*, X) lies in the row space of K (always for an empirical kernel J J^T).
    zero = jnp.abs(lt) <= 1e-12 * jnp.max(jnp.abs(lam))
    decay = jnp.where(zero, 1.0, decay)
    at = jnp.where(jnp.isinf(tt), 0.0, a * jnp.where(jnp.isinf(tt), 0.0, tt))
    resolvent = jnp.where(zero, at, one_minus / jnp.where(zero, 1.0, lt))
    return decay, resolvent


def spectral_factors(
    eigenvalues: jax.Array, rate: float, times: Any, *, discrete: bool = False
) -> tuple[jax.Array, jax.Array]:
    """The two functions of the kernel behind :func:`mse_dynamics`, per eigenvalue and time.

    For an eigenvalue ``λ`` of ``K`` and ``a = η/N`` (``rate``): the decay ``d(λ, t) = exp(-a λ t)``
    (gradient flow) or ``(1 - a λ)^t`` (``discrete=True``, ``t`` whole steps), and the resolvent
    ``(1 - d(λ, t)) / λ``, which stays finite at ``λ = 0`` (limit ``a t``). Eigenvalues below
    ``1e-12`` times the largest count as zero: decay 1, resolvent ``a t`` (``0`` at ``t = ∞``, the
    pseudo-inverse). With ``K = V diag(λ) V^T``: ``D_t = V diag(d) V^T`` and
    ``K^{-1}(I - D_t) = V diag((1 - d)/λ) V^T``. Works under ``jit`` and ``vmap`` (the values of
    traced arguments are not checked).

    Args:
      eigenvalues: ``λ``, shape ``(D,)`` (those of a positive semi-definite ``K``).
      rate: ``a = η/N > 0``.
      times: a time or times ``(T,)`` in steps (``inf`` allowed for gradient flow).
      discrete: gradient descent instead of gradient flow.

    Returns:
      ``(decay, resolvent)``, each of shape ``(T, D)``.

    References: :cite:`lee2019wide`.
    """
    lam = as_array(eigenvalues, "eigenvalues", ndim=1)
    if is_concrete(rate):
        rate = positive_float(rate, "rate")
    return _spectral_factors(lam, rate, _times(times, discrete), discrete)


def _times(times: Any, discrete: bool, name: str = "times") -> jax.Array:
    if isinstance(times, jax.core.Tracer):
        return jnp.atleast_1d(times)
    try:
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or a 1-D array of numbers, got {type(times).__name__}") from exc
    if t.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {t.shape}")
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"{name} must be non-negative (inf allowed for t -> infinity)")
    if discrete and np.any((t != np.round(t)) & np.isfinite(t)):
        raise ValueError(f"{name} must be whole numbers of steps when discrete=True")
    return jnp.asarray(t)


def mse_dynamics(
    kernel: jax.Array,
    f0: jax.Array,
    y: jax.Array,
    *,
    learning_rate: float,
    times: Any,
    kernel_test_train: jax.Array | None = None,
    f0_test: jax.Array | None = None,
    discrete: bool = False,
) -> tuple[jax.Array, jax.Array | None]:
    """Outputs of a model trained on the MSE loss with a constant kernel, in closed form.

    .. math::
        f_t(X) = Y + D_t (f_0 - Y), \\qquad
        f_t(x^*) = f_0(x^*) - K(x^*, X) K^{-1}(I - D_t)(f_0 - Y),

    with ``D_t = exp(-η K t / N)`` (gradient flow ``dθ/dt = -η ∇_θ L``, ``t`` in steps) or
    ``D_t = (I - η K / N)^t`` (``discrete=True``: gradient descent, ``t`` whole steps). Exact for the
    linearized network with its empirical kernel; evaluated through the eigendecomposition
    ``K = V Λ V^T`` (``K`` symmetric), so ``K^{-1}(I - D_t) = V diag((1 - d(λ, t))/λ) V^T`` is finite
    even where ``K`` is singular (limit ``η t / N`` at ``λ = 0``).

    Args:
      kernel: ``K(X, X)``, ``(N, N)`` (same for every output) or ``(N, N, n_L, n_L)``.
      f0: outputs at initialization ``(N, n_L)``; y: targets ``(N, n_L)``.
      learning_rate: ``η > 0``.
      times: a time or an array of times ``(T,)`` in steps (``inf`` allowed for gradient flow).
      kernel_test_train: ``K(X*, X)``, ``(M, N)`` or ``(M, N, n_L, n_L)``; f0_test: ``(M, n_L)``.
      discrete: gradient descent instead of gradient flow.

    Returns:
      ``(train, test)``: ``(T, N, n_L)`` and ``(T, M, n_L)`` (``None`` without test inputs).

    References: :cite:`lee2019wide` (eqs. 9--11), :cite:`jacot2018ntk`.
    """
    y = as_array(y, "y", ndim=2)
    n, n_out = y.shape
    f0 = as_array(f0, "f0", ndim=2)
    if f0.shape != (n, n_out):
        raise ValueError(f"f0 must have the shape of y {(n, n_out)}, got {f0.shape}")
    y = _targets(y, "y", n, n_out)
    k, scalar = _flatten_kernel(kernel, "kernel", n, n, n_out)
    if is_concrete(k):
        kh = np.asarray(k)  # checked on the host: a jitted check would compile once per shape
        if not np.allclose(kh, kh.T, rtol=1e-10, atol=1e-12 * float(np.max(np.abs(kh)))):
            raise ValueError("kernel must be symmetric")
    lr = positive_float(learning_rate, "learning_rate")
    t = _times(times, discrete)
    if (kernel_test_train is None) != (f0_test is None):
        raise ValueError("kernel_test_train and f0_test must be given together")
    kt = None
    if f0_test is not None:
        f0_test = as_array(f0_test, "f0_test", ndim=2)
        m = f0_test.shape[0]
        if f0_test.shape[1] != n_out:
            raise ValueError(f"f0_test must have shape (M, n_L) with n_L = {n_out}, got {f0_test.shape}")
        kt, scalar_t = _flatten_kernel(kernel_test_train, "kernel_test_train", m, n, n_out)
        if scalar_t != scalar:
            raise ValueError("kernel and kernel_test_train must both be (N1, N2) or both be (N1, N2, n_L, n_L)")
    return _mse_dynamics(k, f0, y, lr / n, t, kt, f0_test, scalar, discrete)


@functools.partial(jax.jit, static_argnums=(7, 8))
def _mse_dynamics(k, f0, y, a, t, kt, f0_test, scalar, discrete):
    """:func:`mse_dynamics` after validation, one compiled program (``a = η/N``; ``kt``, ``f0_test`` may be None)."""
    n, n_out = y.shape
    lam, v = jnp.linalg.eigh(k)
    decay, resolvent = _spectral_factors(lam, a, t, discrete)
    r0 = f0 - y
    r0 = r0 if scalar else r0.reshape(n * n_out, 1)
    coef = v.T @ r0  # (D, n_L) or (D, 1)
    train_out = y[None] + jnp.einsum("dk,tk,ko->tdo", v, decay, coef).reshape(t.shape[0], n, n_out)
    if f0_test is None:
        return train_out, None
    corr = jnp.einsum("md,dk,tk,ko->tmo", kt, v, resolvent, coef).reshape(t.shape[0], f0_test.shape[0], n_out)
    return train_out, f0_test[None] - corr


def ntk_gp(
    nngp_test_test: jax.Array,
    nngp_test_train: jax.Array,
    nngp_train_train: jax.Array,
    ntk_test_train: jax.Array,
    ntk_train_train: jax.Array,
    y: jax.Array,
    *,
    learning_rate: float = 1.0,
    time: float = np.inf,
    discrete: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Mean and covariance over random initializations of an infinitely wide network trained on MSE.

    At infinite width ``f_0`` is a centred GP with covariance ``Σ`` (the NNGP kernel) and training is
    linear with the deterministic NTK ``Θ``: ``f_t(x*) = f_0(x*) - A_t (f_0(X) - Y)`` with
    ``A_t = Θ(x*, X) Θ^{-1}(I - D_t)``. Hence

    .. math::
        μ_t = A_t Y, \\qquad
        C_t = Σ(x^*, x^*) - A_t Σ(X, x^*) - Σ(x^*, X) A_t^\\top + A_t Σ(X, X) A_t^\\top,

    at ``t = ∞`` ``A_∞ = Θ(x*, X) Θ^{-1}`` (:cite:`lee2019wide`, eqs. 13--16). Every output is an
    independent copy with the same covariance.

    Args:
      nngp_test_test: ``Σ(x*, x*)``, shape ``(M, M)``.
      nngp_test_train: ``Σ(x*, X)``, shape ``(M, N)``.
      nngp_train_train: ``Σ(X, X)``, shape ``(N, N)``.
      ntk_test_train: ``Θ(x*, X)``, shape ``(M, N)``.
      ntk_train_train: ``Θ(X, X)``, shape ``(N, N)``.
      y: targets ``(N, n_L)``.
      learning_rate, time, discrete: as in :func:`mse_dynamics` (default ``t = ∞``).

    Returns:
      ``(mean, cov)`` of shapes ``(M, n_L)`` and ``(M, M)``.

    References: :cite:`lee2019wide`.
    """
    s_tt = as_array(nngp_test_test, "nngp_test_test", ndim=2)
    s_tx = as_array(nngp_test_train, "nngp_test_train", ndim=2)
    s_xx = as_array(nngp_train_train, "nngp_train_train", ndim=2)
    k_tx = as_array(ntk_test_train, "ntk_test_train", ndim=2)
    k_xx = as_array(ntk_train_train, "ntk_train_train", ndim=2)
    m, n = s_tx.shape
    for name, arr, shape in (
        ("nngp_test_test", s_tt, (m, m)),
        ("nngp_train_train", s_xx, (n, n)),
        ("ntk_test_train", k_tx, (m, n)),
        ("ntk_train_train", k_xx, (n, n)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (from nngp_test_train {(m, n)}), got {arr.shape}")
    y = as_array(y, "y", ndim=2)
    if y.shape[0] != n:
        raise ValueError(f"y must have N = {n} rows, got shape {y.shape}")
    lr = positive_float(learning_rate, "learning_rate")
    t = _times(time, discrete, "time")
    if t.shape != (1,):
        raise ValueError(f"time must be a single number, got shape {t.shape}")
    return _ntk_gp(s_tt, s_tx, s_xx, k_tx, k_xx, y, lr / n, t, discrete)


@functools.partial(jax.jit, static_argnums=8)
def _ntk_gp(s_tt, s_tx, s_xx, k_tx, k_xx, y, rate, t, discrete):
    """:func:`ntk_gp` after validation, one compiled program (``rate = η/N``)."""
    lam, v = jnp.linalg.eigh(k_xx)
    _, resolvent = _spectral_factors(lam, rate, t, discrete)
    a = k_tx @ (v * resolvent[0]) @ v.T  # (M, N)
    mean = a @ y
    cross = a @ s_tx.T
    cov = s_tt - cross - cross.T + a @ s_xx @ a.T
    return mean, cov
