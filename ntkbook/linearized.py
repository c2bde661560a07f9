"""Chapter 11 -- linearized models: a network trained by gradient descent against its first-order
Taylor expansion in the parameters, and the closed-form dynamics of both under the MSE loss.

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
function of ``K`` that stays finite where ``K`` is singular. With the infinite-width NNGP and
NTK kernels this gives the mean and covariance of the trained infinitely wide network over random
initializations (:func:`ntk_gp`).

References: :cite:`lee2019wide`, :cite:`jacot2018ntk`, :cite:`weng2022ntk` (Linearized models).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import infinite_ntk as _inf
from . import mlp as _mlp
from . import ntk as _ntk
from .claims import check_close, check_monte_carlo, check_slope, claim
from .validate import as_array, as_callable, is_concrete, positive_float, positive_int

CHAPTER = "11-linearized-models"

__all__ = [
    "Trajectory",
    "linearize",
    "mse_dynamics",
    "mse_loss",
    "ntk_gp",
    "train",
]

ApplyFn = Callable[[Any, jax.Array], jax.Array]


# --------------------------------------------------------------------------- validation helpers


def _as_array(x: Any, name: str, *, ndim=None, finite: bool = True) -> jax.Array:
    """:func:`ntkbook.validate.as_array`, also for concrete arrays closed over inside a trace
    (where the finiteness test itself is traced): only rank and dtype are checked there."""
    try:
        return as_array(x, name, ndim=ndim, finite=finite)
    except jax.errors.TracerBoolConversionError:
        return as_array(x, name, ndim=ndim, finite=False)


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
        raise ValueError(f"{name}(params, x) must map x of shape (N, n_0) = {x.shape} to (N, n_L), "
                         f"got {getattr(out, 'shape', type(out).__name__)}")
    return tuple(out.shape)


def _targets(y: Any, name: str, n: int, n_out: int) -> jax.Array:
    y = _as_array(y, name, ndim=2)
    if y.shape != (n, n_out):
        raise ValueError(f"{name} must have shape (N, n_L) = {(n, n_out)} to match the inputs and the network output, got {y.shape}")
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
        if jax.tree_util.tree_structure(params) != tree0 or [jnp.shape(l) for l in jax.tree_util.tree_leaves(params)] != shapes0:
            raise ValueError("params must have the tree structure and leaf shapes of params0 given to linearize")
        delta = jax.tree_util.tree_map(lambda p, p0: p - p0, params, params0)
        f0, df = jax.jvp(lambda p: apply_fn(p, x), (params0,), (delta,))
        return f0 + df

    return apply_lin


def mse_loss(outputs: jax.Array, targets: jax.Array) -> jax.Array:
    """``L = (1/N) sum_i ½ ||f_i - y_i||²`` for outputs and targets of shape ``(N, n_L)`` (a scalar)."""
    outputs = _as_array(outputs, "outputs", ndim=2, finite=False)
    targets = _as_array(targets, "targets", ndim=2, finite=False)
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs and targets must have the same shape (N, n_L), got {outputs.shape} and {targets.shape}")
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
        p = jax.lax.fori_loop(0, record_every, lambda _, q: jax.tree_util.tree_map(lambda a, g: a - learning_rate * g, q, grad(q)), p)
        return p, record(p)

    first = record(params0)
    params, rest = jax.lax.scan(chunk, params0, None, length=steps // record_every)
    stack = lambda a, b: None if a is None else jnp.concatenate([a[None], b])  # noqa: E731
    f, l, ft, lt = (stack(a, b) for a, b in zip(first, rest))
    return f, l, ft, lt, params


def train(apply_fn: ApplyFn, params0: Any, x: jax.Array, y: jax.Array, *, learning_rate: float, steps: int,
          record_every: int = 1, x_test: jax.Array | None = None, y_test: jax.Array | None = None) -> Trajectory:
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
    x = _as_array(x, "x", ndim=2)
    n, n_out = _output_shape(apply_fn, params0, x)
    y = _targets(y, "y", n, n_out)
    learning_rate = positive_float(learning_rate, "learning_rate")
    steps = positive_int(steps, "steps")
    record_every = positive_int(record_every, "record_every")
    if steps % record_every:
        raise ValueError(f"steps must be a multiple of record_every = {record_every}, got {steps}")
    if x_test is not None:
        x_test = _as_array(x_test, "x_test", ndim=2)
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
    k = _as_array(k, name, ndim=(2, 4))
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


def mse_dynamics(kernel: jax.Array, f0: jax.Array, y: jax.Array, *, learning_rate: float, times: Any,
                 kernel_test_train: jax.Array | None = None, f0_test: jax.Array | None = None,
                 discrete: bool = False) -> tuple[jax.Array, jax.Array | None]:
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
    y = _as_array(y, "y", ndim=2)
    n, n_out = y.shape
    f0 = _as_array(f0, "f0", ndim=2)
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
        f0_test = _as_array(f0_test, "f0_test", ndim=2)
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


def ntk_gp(nngp_test_test: jax.Array, nngp_test_train: jax.Array, nngp_train_train: jax.Array,
           ntk_test_train: jax.Array, ntk_train_train: jax.Array, y: jax.Array, *,
           learning_rate: float = 1.0, time: float = np.inf, discrete: bool = False) -> tuple[jax.Array, jax.Array]:
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
      nngp_test_test ``(M, M)``, nngp_test_train ``(M, N)``, nngp_train_train ``(N, N)``: ``Σ``.
      ntk_test_train ``(M, N)``, ntk_train_train ``(N, N)``: ``Θ``.
      y: targets ``(N, n_L)``.
      learning_rate, time, discrete: as in :func:`mse_dynamics` (default ``t = ∞``).

    Returns:
      ``(mean, cov)`` of shapes ``(M, n_L)`` and ``(M, M)``.

    References: :cite:`lee2019wide`.
    """
    s_tt = _as_array(nngp_test_test, "nngp_test_test", ndim=2)
    s_tx = _as_array(nngp_test_train, "nngp_test_train", ndim=2)
    s_xx = _as_array(nngp_train_train, "nngp_train_train", ndim=2)
    k_tx = _as_array(ntk_test_train, "ntk_test_train", ndim=2)
    k_xx = _as_array(ntk_train_train, "ntk_train_train", ndim=2)
    m, n = s_tx.shape
    for name, arr, shape in (("nngp_test_test", s_tt, (m, m)), ("nngp_train_train", s_xx, (n, n)),
                             ("ntk_test_train", k_tx, (m, n)), ("ntk_train_train", k_xx, (n, n))):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (from nngp_test_train {(m, n)}), got {arr.shape}")
    y = _as_array(y, "y", ndim=2)
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


# --------------------------------------------------------------------------- the chapter's set-up

ACTIVATION = "erf"
BETA = 0.5
RADIUS = 2.0
N_TRAIN = 7
N_TEST = 48
LEARNING_RATE = 1.5
DEPTH = 2  # affine layers: one hidden layer


def toy_problem(n_train: int = N_TRAIN, n_test: int = N_TEST) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Inputs on a circle of radius 2 in R^2 (``||x||²/n_0 = 2``), targets ``y(φ) = sin 2φ + ½ cos φ``.

    Returns ``(x, y, x_test, y_test)`` of shapes ``(N, 2), (N, 1), (M, 2), (M, 1)``; training
    angles ``2π i/N + 0.3``, test angles ``2π j/M`` (none coincides with a training angle).
    """
    return _toy_problem(positive_int(n_train, "n_train"), positive_int(n_test, "n_test"))


@functools.partial(jax.jit, static_argnums=(0, 1))  # one compilation, not one per operation and shape
def _toy_problem(n_train, n_test):
    def on_circle(phi):
        return RADIUS * jnp.stack([jnp.cos(phi), jnp.sin(phi)], 1), (jnp.sin(2 * phi) + 0.5 * jnp.cos(phi))[:, None]

    x, y = on_circle(jnp.linspace(0, 2 * jnp.pi, n_train, endpoint=False) + 0.3)
    xt, yt = on_circle(jnp.linspace(0, 2 * jnp.pi, n_test, endpoint=False))
    return x, y, xt, yt


def network(params: Any, x: jax.Array) -> jax.Array:
    """The chapter's network: :func:`ntkbook.mlp.apply` with erf and ``β = 0.5``."""
    return _mlp.apply(params, x, activation=ACTIVATION, beta=BETA)


def init_network(key: jax.Array, width: int, n_out: int = 1) -> list:
    """``(2, width, n_out)`` parameters of :func:`network`."""
    return _mlp.init(key, (2, width, n_out))


def init_networks(keys: jax.Array, width: int, n_out: int = 1) -> list:
    """:func:`init_network` for a batch of keys, stacked on a leading axis (``jax.vmap`` of it, the same
    numbers; :func:`ntkbook.mlp.init_batch`)."""
    return _mlp.init_batch(keys, (2, width, n_out))


def empirical_kernels(params: Any, x: jax.Array, x_test: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Empirical NTK ``K(X, X)`` and ``K(X*, X)`` of :func:`network` (traces over the single output)."""
    cfg = dict(activation=ACTIVATION, beta=BETA)
    return (_ntk.empirical_ntk(network, params, x, output="trace", mlp_config=cfg),
            _ntk.empirical_ntk(network, params, x_test, x, output="trace", mlp_config=cfg))


def infinite_kernels(x1: jax.Array, x2: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Infinite-width ``(Σ, Θ)`` of :func:`network` (:func:`ntkbook.infinite_ntk.infinite_width_kernels`)."""
    return _inf.infinite_width_kernels(x1, x2, depth=DEPTH, activation=ACTIVATION, beta=BETA)


def _flat_jacobian(apply_fn, params, x):
    """``J = ∂f(X)/∂θ`` flattened to ``(N n_L, P)`` (small networks only), with the flat ``θ`` and its unravel."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return _jacobian_matrix(apply_fn, params, x), flat, unravel


# The claims' autodiff runs compiled, one program per function and shape: run eagerly, every
# primitive of a gradient or Jacobian would be compiled on its own (tens of milliseconds each).
@functools.partial(jax.jit, static_argnums=0)
def _jacobian_matrix(apply_fn, params, x):
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return jax.jacrev(lambda p: apply_fn(unravel(p), x).reshape(-1))(flat)


@functools.partial(jax.jit, static_argnums=0)
def _loss_gradients(apply_fn, params, x, y):
    """``∇_θ L`` flattened ``(P,)`` and ``∇_f L`` ``(N, n_L)`` of the MSE loss, by autodiff."""
    g_theta = jax.flatten_util.ravel_pytree(jax.grad(lambda p: _mse(apply_fn(p, x), y))(params))[0]
    return g_theta, jax.grad(lambda out: _mse(out, y))(apply_fn(params, x))


# Two float64 computations of the same quantity by different routes (eigendecomposition vs a loop
# of steps, jvp vs an explicit Jacobian): they differ by accumulated rounding, a few hundred ulps
# of O(1) numbers over ~100 steps.
_ROUNDING = 1e-11
# scipy's DOP853 with rtol = 1e-12, atol = 1e-13 on O(1) quantities over the integration window.
_SOLVER = 1e-9


import jax.flatten_util  # noqa: E402  (ravel_pytree)


# --------------------------------------------------------------------------- claims: the loss gradient


def _small_setup(width: int = 16, key: int = 0):
    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(key), width)
    return x, y, xt, yt, p0


@claim(CHAPTER, "MSE loss: the source's gradient ∇_θ L(θ) = f(X; θ) - Y", equation="eq-mse-gradient", source_holds=False,
       where="Linearized models, 'In a simple case when the empirical loss is an MSE loss'",
       source_says="∇_θ L(θ) = f(X; θ) - Y",
       truth="∇_f L = (f(X; θ) - Y)/N (a vector over the N n_L outputs) and ∇_θ L = ∇_θ f(X; θ) (f(X; θ) - Y)/N "
             "(a P-vector), for L = (1/N) Σ ½||f - y||²")
def check_mse_gradient_as_written():
    x, y, _, _, p0 = _small_setup()
    f = network(p0, x)
    g_theta, g_f = _loss_gradients(network, p0, x, y)
    return [
        check_close("shape of ∇_θ L (P,) vs shape of f(X) - Y (N n_L,)", np.array(g_theta.shape),
                    np.array([(f - y).size]), atol=0, expect=False, detail=f"P = {g_theta.size}, N n_L = {(f - y).size}"),
        check_close("even read as ∇_f L: autodiff ∇_f L vs f(X) - Y (N = 7)", g_f, f - y, atol=_ROUNDING, expect=False),
    ]


@claim(CHAPTER, "MSE loss: ∇_f L = (f - Y)/N and ∇_θ L = J^T (f - Y)/N", equation="eq-mse-gradient")
def check_mse_gradient():
    x, y, _, _, p0 = _small_setup()
    f = network(p0, x)
    n = x.shape[0]
    g_theta, g_f = _loss_gradients(network, p0, x, y)
    jac, _, _ = _flat_jacobian(network, p0, x)
    return [
        check_close("autodiff ∇_f L vs (f(X) - Y)/N", g_f, (f - y) / n, atol=_ROUNDING),
        check_close("autodiff ∇_θ L vs J^T (f(X) - Y)/N with the explicit Jacobian", g_theta, jac.T @ (f - y).reshape(-1) / n,
                    atol=_ROUNDING),
    ]


# --------------------------------------------------------------------------- claims: the linearized model


@claim(CHAPTER, "The linearized model as written: f(θ0) + ∇_θ f(θ0)(θ - θ0)", equation="eq-linearized",
       source_holds=False, where="Linearized models, definition of f^lin",
       source_says="f^lin(θ(t)) = f(θ(0)) + ∇_θ f(θ(0)) (θ(t) - θ(0))",
       truth="with ∇_θ f = J^T (P x n_L) the product needs a transpose: f^lin = f(θ(0)) + ∇_θ f(θ(0))^T (θ(t) - θ(0)) "
             "= f(θ(0)) + J (θ(t) - θ(0))")
def check_linearized_as_written():
    x, _, _, _, p0 = _small_setup()
    n_out = 2
    p0 = init_network(jax.random.key(1), 16, n_out)
    grad_f = _jacobian_matrix(network, p0, x[:1]).T  # ∇_θ f = J^T, (P, n_L)
    P = grad_f.shape[0]
    return check_close("inner dimensions of ∇_θ f (P x n_L) times θ - θ0 (P): n_L vs P", np.array([grad_f.shape[1]]),
                       np.array([P]), atol=0, expect=False, detail=f"P = {P}, n_L = {n_out}")


@claim(CHAPTER, "linearize(): f_lin = f(θ0) + J (θ - θ0) by one jvp, equal to the explicit Jacobian product; "
       "f - f_lin is second order", equation="eq-linearized")
def check_linearize():
    x, _, xt, _, _ = _small_setup()
    p0 = init_network(jax.random.key(1), 16, 2)
    lin = linearize(network, p0)
    jac, flat0, unravel = _flat_jacobian(network, p0, xt)
    d = _mlp.standard_normal(jax.random.key(2), flat0.shape)
    d = d / jnp.linalg.norm(d)
    p1 = unravel(flat0 + 0.3 * d)
    explicit = network(p0, xt) + (jac @ (0.3 * d)).reshape(xt.shape[0], 2)
    eps = np.logspace(-1, -3, 7)
    remainder = jax.jit(jax.vmap(lambda e: jnp.max(jnp.abs(network(unravel(flat0 + e * d), xt) - lin(unravel(flat0 + e * d), xt)))))
    rem = np.asarray(remainder(jnp.asarray(eps)))
    return [
        check_close("jvp-based f_lin vs f(θ0) + J Δθ with the explicit Jacobian (48 inputs, 2 outputs)", lin(p1, xt), explicit,
                    atol=_ROUNDING),
        check_slope("remainder max|f(θ0 + εd) - f_lin(θ0 + εd)| vs ε, ε in [1e-3, 1e-1]", eps, rem, 2.0, atol=0.05,
                    detail="Taylor: the remainder is O(ε²)"),
    ]


# --------------------------------------------------------------------------- claims: gradient descent on f_lin


@functools.lru_cache(maxsize=None)
def _lin_gd(width: int = 256, steps: int = 100):
    """GD on the linearized network of one initialization, with its empirical kernels (cached)."""
    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(3), width)
    lin = linearize(network, p0)
    traj = train(lin, p0, x, y, learning_rate=LEARNING_RATE, steps=steps, x_test=xt, y_test=yt)
    k, kt = empirical_kernels(p0, x, xt)
    return x, y, xt, yt, p0, traj, k, kt


@claim(CHAPTER, "Gradient descent on f_lin follows f_t = Y + (I - ηK/N)^t (f_0 - Y) exactly, on training and test inputs",
       equation="eq-discrete-closed-form")
def check_discrete_closed_form():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    tr, te = mse_dynamics(k, network(p0, x), y, learning_rate=LEARNING_RATE, times=traj.steps, kernel_test_train=kt,
                          f0_test=network(p0, xt), discrete=True)
    return [
        check_close("GD on f_lin vs (I - ηK/N)^t closed form, train outputs, 100 steps, width 256", traj.train_outputs, tr,
                    atol=_ROUNDING),
        check_close("GD on f_lin vs closed form K(x*,X)K^-1(I - (I - ηK/N)^t), 48 test outputs", traj.test_outputs, te,
                    atol=_ROUNDING),
    ]


@jax.jit
def _parameter_move(jac, r0, a, t):
    """``-J^T K^-1 (I - (I - a K)^t) r0`` with ``K = J J^T`` (``a = η/N``, ``t`` steps): ``(P,)``."""
    lam, v = jnp.linalg.eigh(jac @ jac.T)
    _, res = _spectral_factors(lam, a, jnp.reshape(t, (1,)), True)
    return -jac.T @ (v @ (res[0] * (v.T @ r0)))


@claim(CHAPTER, "The parameters of f_lin move by θ_t - θ_0 = -J^T K^-1 (I - (I - ηK/N)^t)(f_0 - Y)",
       equation="eq-parameter-closed-form")
def check_parameter_closed_form():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    jac, flat0, _ = _flat_jacobian(network, p0, x)
    predicted = _parameter_move(jac, (network(p0, x) - y)[:, 0], LEARNING_RATE / x.shape[0], float(traj.steps[-1]))
    moved = jax.flatten_util.ravel_pytree(traj.params)[0] - flat0
    return check_close("θ_100 - θ_0 of GD on f_lin vs the closed form (P = 1025)", moved, predicted, atol=_ROUNDING)


@claim(CHAPTER, "One step: θ(t) - θ(0) = -η∇_θ L(θ) holds for t = 1 only", equation="eq-parameter-closed-form",
       source_holds=False, where="Linearized models, first line of the gradient-descent derivation",
       source_says="θ(t) - θ(0) = -η ∇_θ L(θ)",
       truth="one step gives θ(1) - θ(0) = -η ∇_θ L(θ(0)); after t steps θ(t) - θ(0) = -η Σ_{s<t} ∇_θ L(θ(s)) "
             "(for gradient flow -η ∫_0^t ∇_θ L(θ(s)) ds)")
def check_single_step_as_written():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    lin = linearize(network, p0)
    grad = lambda p: _loss_gradients(lin, p, x, y)[0]  # noqa: E731
    flat0 = jax.flatten_util.ravel_pytree(p0)[0]
    one = train(lin, p0, x, y, learning_rate=LEARNING_RATE, steps=1).params
    moved = jax.flatten_util.ravel_pytree(traj.params)[0] - flat0
    return [
        check_close("t = 1: θ(1) - θ(0) vs -η∇L(θ(0))", jax.flatten_util.ravel_pytree(one)[0] - flat0,
                    -LEARNING_RATE * grad(p0), atol=_ROUNDING),
        check_close("t = 100: θ(t) - θ(0) vs -η∇L(θ(0))", moved, -LEARNING_RATE * grad(p0), atol=1e-3, relative=True,
                    expect=False, detail="relative error, tolerance 0.1%"),
        check_close("t = 100: θ(t) - θ(0) vs -η∇L(θ(t))", moved, -LEARNING_RATE * grad(traj.params), atol=1e-3,
                    relative=True, expect=False, detail="relative error, tolerance 0.1%"),
    ]


@claim(CHAPTER, "The gradient as ∇_θ f(θ)^T ∇_f L: the shapes do not chain", equation="eq-mse-gradient",
       source_holds=False, where="Linearized models, first line of the gradient-descent derivation",
       source_says="-η ∇_θ L(θ) = -η ∇_θ f(θ)^T ∇_f L",
       truth="with ∇_θ f of shape P x N n_L, ∇_θ L = ∇_θ f ∇_f L (no transpose), as in the NTK section")
def check_gradient_transpose_as_written():
    x, y, _, _, p0 = _small_setup()
    jac, _, _ = _flat_jacobian(network, p0, x)
    grad_f = jac.T  # ∇_θ f(X), (P, N n_L)
    return check_close("inner dimensions of ∇_θ f^T (N n_L x P) times ∇_f L (N n_L): P vs N n_L",
                       np.array([grad_f.shape[0]]), np.array([grad_f.shape[1]]), atol=0, expect=False,
                       detail=f"P = {grad_f.shape[0]}, N n_L = {grad_f.shape[1]}")


# --------------------------------------------------------------------------- claims: gradient flow


@functools.lru_cache(maxsize=None)
def _flow_numeric(width: int = 32, t_end: float = 60.0):
    """Integrate the *parameter* flow dθ/dt = -η ∇_θ L(f_lin(θ)) numerically (scipy DOP853).

    Independent of any kernel formula: it never forms K or an exponential.
    """
    from scipy.integrate import solve_ivp

    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(4), width)
    lin = linearize(network, p0)
    flat0, unravel = jax.flatten_util.ravel_pytree(p0)
    rhs = jax.jit(lambda th: -LEARNING_RATE * jax.flatten_util.ravel_pytree(
        jax.grad(lambda q: _mse(lin(q, x), y))(unravel(th)))[0])
    ts = np.linspace(0.0, t_end, 13)
    sol = solve_ivp(lambda t, th: np.asarray(rhs(jnp.asarray(th))), (0.0, t_end), np.asarray(flat0), method="DOP853",
                    t_eval=ts, rtol=1e-12, atol=1e-13)
    thetas = jnp.asarray(sol.y.T)
    outs, outs_t = jax.jit(jax.vmap(lambda th: (lin(unravel(th), x), lin(unravel(th), xt))))(thetas)
    k, kt = empirical_kernels(p0, x, xt)
    return x, y, xt, p0, ts, outs, outs_t, k, kt


def _expm_sym(k, s):
    lam, v = jnp.linalg.eigh(k)
    return (v * jnp.exp(s * lam)) @ v.T


@claim(CHAPTER, "Gradient flow of f_lin: f_t = Y + exp(-ηKt/N)(f_0 - Y), and the test outputs from the same kernel",
       equation="eq-flow-closed-form")
def check_flow_closed_form():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    tr, te = mse_dynamics(k, network(p0, x), y, learning_rate=LEARNING_RATE, times=ts, kernel_test_train=kt,
                          f0_test=network(p0, xt))
    return [
        check_close("numerically integrated parameter flow vs Y + exp(-ηKt/N)(f_0 - Y), t in [0, 60]", outs, tr, atol=_SOLVER),
        check_close("same, 48 test outputs vs f_0(x*) - K(x*,X)K^-1(I - exp(-ηKt/N))(f_0 - Y)", outs_t, te, atol=_SOLVER),
    ]


@claim(CHAPTER, "The source's closed form f = (f(θ0) - Y) e^{-ηK t} + Y (missing the 1/N of its own loss)",
       equation="eq-flow-closed-form", source_holds=False,
       where="Linearized models, closed-form solution (first expression)",
       source_says="df/dt = -η K (f - Y), f(θ) = (f(θ(0)) - Y) e^{-η K t} + Y",
       truth="with L = (1/N) Σ ½||f - y||² and dθ/dt = -η∇_θ L: df/dt = -(η/N) K (f - Y), "
             "f_t = Y + e^{-η K t/N}(f_0 - Y) (the exponential may stand on the right only for a row vector; K is symmetric)")
def check_source_closed_form_as_written():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    f0 = network(p0, x)[:, 0]
    row = jnp.stack([(f0 - y[:, 0]) @ _expm_sym(k, -LEARNING_RATE * t) + y[:, 0] for t in ts])
    col = jnp.stack([_expm_sym(k, -LEARNING_RATE * t) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    return [
        check_close("row vector times e^{-ηKt} vs e^{-ηKt} times column (K symmetric)", row, col, atol=_ROUNDING),
        check_close("source closed form (rate η K, no 1/N) vs the integrated flow", row, outs[:, :, 0], atol=_SOLVER,
                    expect=False),
    ]


@claim(CHAPTER, "The source's second expression f(θ0) e^{-K t} + (I - e^{-ηK t}) Y", equation="eq-flow-closed-form",
       source_holds=False, where="Linearized models, closed-form solution (second expression)",
       source_says="f(θ) = f(θ(0)) e^{-K∞ t} + (I - e^{-η K∞ t}) Y",
       truth="the same η (and, with the 1/N loss, 1/N) must appear in both exponentials: "
             "f_t = e^{-ηKt/N} f_0 + (I - e^{-ηKt/N}) Y")
def check_source_second_form_as_written():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    f0 = network(p0, x)[:, 0]
    first = jnp.stack([_expm_sym(k, -LEARNING_RATE * t) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    second = jnp.stack([_expm_sym(k, -t) @ f0 + (y[:, 0] - _expm_sym(k, -LEARNING_RATE * t) @ y[:, 0]) for t in ts])
    fixed = jnp.stack([_expm_sym(k, -LEARNING_RATE * t / x.shape[0]) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    return [
        check_close("second expression vs the first expression (η = 1.5)", second, first, atol=_ROUNDING, expect=False),
        check_close("e^{-ηKt/N} f_0 + (I - e^{-ηKt/N}) Y vs the integrated flow", fixed, outs[:, :, 0], atol=_SOLVER),
    ]


@claim(CHAPTER, "Separation of variables ∫dg/g = -η∫K dt, read componentwise", equation="eq-eigen-modes",
       source_holds=False, where="Linearized models, solving dg/dt = -η K g",
       source_says="∫ dg/g = -η ∫ K dt, g = C e^{-η K t}",
       truth="one cannot divide by the vector g; in the eigenbasis K = V Λ V^T of the constant symmetric K the "
             "modes h = V^T g decouple, h_k(t) = h_k(0) e^{-η λ_k t/N}, and g(t) = e^{-η K t/N} g(0)")
def check_separation_as_written():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    n = x.shape[0]
    g = outs[:, :, 0] - y[:, 0]
    componentwise = g[0][None] * jnp.exp(-LEARNING_RATE * jnp.diag(k)[None] * jnp.asarray(ts)[:, None] / n)
    return check_close("componentwise g_i(0) e^{-η K_ii t/N} vs the integrated flow", componentwise, g, atol=_SOLVER,
                       expect=False)


@claim(CHAPTER, "In the eigenbasis of K the flow decouples into scalar ODEs h_k' = -(η λ_k/N) h_k", equation="eq-eigen-modes")
def check_eigen_modes():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    n = x.shape[0]
    lam, v = jnp.linalg.eigh(k)
    h = (outs[:, :, 0] - y[:, 0]) @ v  # (T, N): modes
    predicted = h[0][None] * jnp.exp(-LEARNING_RATE * lam[None] * jnp.asarray(ts)[:, None] / n)
    return check_close("modes V^T(f_t - Y) of the integrated flow vs h_k(0) e^{-η λ_k t/N}", h, predicted, atol=_SOLVER)


# --------------------------------------------------------------------------- claims: real networks vs width

WIDTHS = (256, 512, 1024, 2048)
SWEEP_SEEDS = 8
SWEEP_STEPS = 100


@functools.lru_cache(maxsize=None)
def width_sweep(widths: tuple[int, ...] = WIDTHS, seeds: int = SWEEP_SEEDS, steps: int = SWEEP_STEPS,
                record_every: int = 5) -> dict:
    """Train the real network (``vmap`` over ``seeds`` initializations, key 10) at each width and
    compare with f_lin (its empirical-kernel closed form, discrete) and with the infinite-width
    closed form started from the network's own ``f_0``.

    Returns a dict of NumPy arrays: ``gap_lin`` and ``gap_inf`` ``(W, seeds)`` (max over steps and
    over the 55 train + test outputs), and for plotting the first seed's train/test losses
    ``loss_real``, ``loss_lin``, ``loss_inf`` ``(W, 2, steps + 1)`` (train, test).
    """
    x, y, xt, yt = toy_problem()
    _, k_inf = infinite_kernels(x)
    _, k_inf_tx = infinite_kernels(xt, x)
    times = np.arange(0, steps + 1, record_every)

    def one(p0, x, y, xt, yt):
        f_real, _, ft_real, _, _ = _train(network, steps, record_every, LEARNING_RATE, p0, x, y, xt, yt)
        k, kt = empirical_kernels(p0, x, xt)
        return f_real, ft_real, k, kt, network(p0, x), network(p0, xt)

    # Only this part depends on the width (one compilation per width; the initial parameters are
    # drawn outside it, so that the random draws are not compiled again for every width); the
    # closed forms below have width-independent shapes, compiled once.
    run = jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None)))
    closed = jax.jit(jax.vmap(lambda k, kt, f0, f0t: mse_dynamics(k, f0, y, learning_rate=LEARNING_RATE, times=times,
                                                                  kernel_test_train=kt, f0_test=f0t, discrete=True)))
    gap = lambda a, b: np.max(np.abs(np.asarray(a) - np.asarray(b)), axis=(1, 2, 3))  # noqa: E731
    loss = lambda f, t: 0.5 * np.sum((np.asarray(f)[0] - np.asarray(t)) ** 2, axis=(1, 2)) / np.asarray(t).shape[0]  # noqa: E731
    out = {k: [] for k in ("gap_lin", "gap_inf", "loss_real", "loss_lin", "loss_inf")}
    keys = jax.random.split(jax.random.key(10), seeds)
    for w, p0 in zip(widths, _mlp.init_sweep(keys, [(2, w, 1) for w in widths])):  # = init_networks(keys, w)
        f_real, ft_real, k, kt, f0, f0t = run(p0, x, y, xt, yt)
        lin_tr, lin_te = closed(k, kt, f0, f0t)
        inf_tr, inf_te = closed(jnp.broadcast_to(k_inf, k.shape), jnp.broadcast_to(k_inf_tx, kt.shape), f0, f0t)
        out["gap_lin"].append(np.maximum(gap(f_real, lin_tr), gap(ft_real, lin_te)))
        out["gap_inf"].append(np.maximum(gap(f_real, inf_tr), gap(ft_real, inf_te)))
        for name, (tr, te) in (("loss_real", (f_real, ft_real)), ("loss_lin", (lin_tr, lin_te)), ("loss_inf", (inf_tr, inf_te))):
            out[name].append(np.stack([loss(tr, y), loss(te, yt)]))
    return {k: np.stack(v) for k, v in out.items()} | {"widths": np.array(widths)}


@claim(CHAPTER, "Real network vs its linearization: the gap falls like 1/width (smooth activation)",
       equation="eq-linearized")
def check_width_gap_linearized():
    s = width_sweep()
    mean = s["gap_lin"].mean(1)
    return check_slope("mean over 8 seeds of max_t |f_t - f_lin,t| vs width 256..2048", s["widths"], mean, -1.0, atol=0.2,
                       detail="expected -1: second-order terms with random signs; tol 0.2 for pre-asymptotic curvature")


@claim(CHAPTER, "Real network vs the infinite-width closed form: the gap falls like width^-1/2",
       equation="eq-discrete-closed-form")
def check_width_gap_infinite():
    s = width_sweep()
    mean = s["gap_inf"].mean(1)
    return check_slope("mean over 8 seeds of max_t |f_t - f_inf,t| vs width 256..2048", s["widths"], mean, -0.5, atol=0.1,
                       detail="expected -1/2: the empirical NTK fluctuates by O(n^-1/2) around K_inf")


# --------------------------------------------------------------------------- claims: the NTK-GP

ENSEMBLE_WIDTH = 1024
ENSEMBLE_SEEDS = 128
ENSEMBLE_LR = 1.75


@functools.lru_cache(maxsize=None)
def ensemble(width: int = ENSEMBLE_WIDTH, seeds: int = ENSEMBLE_SEEDS) -> dict:
    """Train ``seeds`` networks (key 20, ``vmap``) until the slowest mode has decayed by 1e-6 and
    return their test predictions ``(seeds, M)`` beside the analytic NTK-GP mean and variance at t = ∞."""
    x, y, xt, yt = toy_problem()
    s_xx, k_xx = infinite_kernels(x)
    s_tx, k_tx = infinite_kernels(xt, x)
    s_tt, _ = infinite_kernels(xt)
    lam = jnp.linalg.eigvalsh(k_xx)
    steps = int(np.ceil(np.log(1e6) * x.shape[0] / (ENSEMBLE_LR * float(lam[0]))))
    mean, cov = ntk_gp(s_tt, s_tx, s_xx, k_tx, k_xx, y)

    def one(p0, x, y, xt):
        *_, p = _train(network, steps, steps, ENSEMBLE_LR, p0, x, y, None, None)
        return network(p, xt)[:, 0], _mse(network(p, x), y)

    keys = jax.random.split(jax.random.key(20), seeds)
    preds, losses = jax.jit(jax.vmap(one, in_axes=(0, None, None, None)))(init_networks(keys, width), x, y, xt)
    return dict(preds=np.asarray(preds), final_loss=np.asarray(losses), mean=np.asarray(mean[:, 0]),
                var=np.asarray(jnp.diag(cov)), steps=steps, x_test=np.asarray(xt), x=np.asarray(x), y=np.asarray(y),
                lam_max=float(lam[-1]))


@claim(CHAPTER, "Ensemble of trained networks vs the NTK-GP: mean and variance at t = ∞", equation="eq-ntk-gp")
def check_ntk_gp_ensemble():
    e = ensemble()
    p = e["preds"]
    m = p.shape[0]
    est_mean = p.mean(0)
    se_mean = p.std(0, ddof=1) / np.sqrt(m)
    est_var = p.var(0, ddof=1)
    c = p - est_mean
    se_var = np.sqrt(np.maximum((c**4).mean(0) - est_var**2, 0) / m)
    return [
        check_monte_carlo(f"ensemble mean of {m} networks (width {ENSEMBLE_WIDTH}) vs Θ(x*,X)Θ^-1 Y, 48 test inputs",
                          est_mean, e["mean"], se_mean),
        check_monte_carlo("ensemble variance vs the NTK-GP variance, 48 test inputs", est_var, e["var"], se_var),
    ]
