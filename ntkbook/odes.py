"""Ordinary differential equations: numeric integration (a jitted RK4 and
``jax.experimental.ode.odeint``), the RK4 error on ``y' = a y``, and the linear system
``dg/dt = -A g``, whose solution ``g(t) = exp(-A t) g(0)`` is the closed form of gradient flow on a
squared loss used in the linearized-model chapter.

Conventions: a right-hand side is called as ``rhs(y, t, *args)`` (the order of ``odeint``); a
trajectory evaluated at times ``ts`` of shape ``(T,)`` has shape ``(T,) + y0.shape``.

Public functions validate their inputs. The chapter that uses them (its examples, the symbolic
derivation and the claims) is ``ntkbook.chapters.c02_odes``. References: :cite:`weng2022ntk`,
:cite:`hairer1993solving` (RK4, error orders), :cite:`moler2003nineteen` (the matrix exponential).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .validate import as_array, as_callable, is_concrete, positive_float, positive_int

__all__ = [
    "as_symmetric_matrix",
    "expm_flow",
    "integrate",
    "linear_flow",
    "linear_rhs",
    "rk4_global_error_bound",
    "rk4_stability_polynomial",
    "scalar_rhs",
]

_Rhs = Callable[[jax.Array, jax.Array], jax.Array]


# --------------------------------------------------------------------------- numeric integration


@functools.partial(jax.jit, static_argnames=("rhs",))
def _rk4(rhs: _Rhs, y0: jax.Array, ts: jax.Array, steps: jax.Array, args: tuple) -> jax.Array:
    # `steps` is traced (a while loop), so changing the step count does not recompile.
    def one_interval(y, t_pair):
        t0, t1 = t_pair
        h = (t1 - t0) / steps

        def step(k, y):
            t = t0 + k * h
            k1 = rhs(y, t, *args)
            k2 = rhs(y + 0.5 * h * k1, t + 0.5 * h, *args)
            k3 = rhs(y + 0.5 * h * k2, t + 0.5 * h, *args)
            k4 = rhs(y + h * k3, t + h, *args)
            return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        y = jax.lax.fori_loop(0, steps, step, y)
        return y, y

    _, ys = jax.lax.scan(one_interval, y0, (ts[:-1], ts[1:]))
    return jnp.concatenate([y0[None], ys], axis=0)


def integrate(
    rhs: _Rhs, y0, ts, *args, method: str = "rk4", steps: int = 16, rtol: float = 1e-10, atol: float = 1e-10
) -> jax.Array:
    """Solve the initial value problem ``dy/dt = rhs(y, t, *args)``, ``y(ts[0]) = y0``.

    Args:
      rhs: a JAX-traceable function ``(y, t, *args) -> dy/dt`` with ``dy/dt`` of the shape of ``y``.
        The RK4 path is jitted with ``rhs`` static: pass data (matrices, ...) through ``args``
        rather than closing over it, so that one compiled program serves every call.
      y0: the initial value, any shape ``S``.
      args: extra arrays passed to ``rhs`` (traced, not static).
      ts: increasing times of shape ``(T,)``, ``T >= 2``; ``ts[0]`` is the initial time.
      method: ``"rk4"`` -- the classical fourth-order Runge--Kutta method with ``steps`` equal steps
        between consecutive times (jitted, ``lax.scan``); its global error is ``O(h^4)``.
        ``"odeint"`` -- ``jax.experimental.ode.odeint`` (adaptive Dormand--Prince) with tolerances
        ``rtol``, ``atol`` on the *local* error.

    Returns:
      ``ys`` of shape ``(T,) + S`` with ``ys[i] ~ y(ts[i])`` (``ys[0] = y0``).

    References: Hairer, Norsett & Wanner (1993), *Solving ODEs I*, II.1 (RK4).
    """
    rhs = as_callable(rhs, "rhs")
    y0 = as_array(y0, "y0")
    ts = as_array(ts, "ts", ndim=1).astype(y0.dtype)
    if ts.shape[0] < 2:
        raise ValueError(f"ts must hold at least 2 times (the initial time and one more), got shape {ts.shape}")
    if is_concrete(ts) and not bool(jnp.all(jnp.diff(ts) > 0)):
        raise ValueError("ts must be strictly increasing")
    for i, arg in enumerate(args):
        if is_concrete(arg) and isinstance(arg, (int, float, np.number, np.ndarray, jax.Array)):
            as_array(arg, f"args[{i}]")  # finite: a nan parameter would give nan trajectories silently
    out = jax.eval_shape(rhs, y0, ts[0], *args)
    if getattr(out, "shape", None) != y0.shape:
        raise ValueError(f"rhs(y, t) must return the shape of y0 {y0.shape}, got {getattr(out, 'shape', out)}")
    if method == "rk4":
        steps = positive_int(steps, "steps")
        return _rk4(rhs, y0, ts, jnp.asarray(steps), tuple(args))
    if method == "odeint":
        from jax.experimental.ode import odeint

        rtol = positive_float(rtol, "rtol")
        atol = positive_float(atol, "atol")
        return odeint(rhs, y0, ts, *args, rtol=rtol, atol=atol)
    raise ValueError(f"method must be 'rk4' or 'odeint', got {method!r}")


def rk4_stability_polynomial(z):
    """``R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24``: one RK4 step on ``y' = a y`` multiplies ``y`` by
    ``R(a h)``, so ``n`` steps give exactly ``R(a h)^n y0``. Elementwise on arrays."""
    z = as_array(z, "z")
    return 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24


def rk4_global_error_bound(a, h: float, n: int, y0: float = 1.0) -> np.ndarray:
    """A rigorous bound on ``|R(a h)^n y0 - e^{a h n} y0|``, the RK4 error on ``y' = a y``.

    With ``z = a h``: ``|R(z) - e^z| <= |z|^5 e^{|z|} / 120`` (the tail of the exponential series
    from ``k = 5``), and ``R^n - E^n = (R - E) sum_j R^j E^{n-1-j}`` gives
    ``|R^n - E^n| <= n |R - E| max(|R|, |E|)^{n-1}``. Elementwise in ``a`` (e.g. the eigenvalues
    of a symmetric matrix, for the error of RK4 on ``g' = -A g`` along each eigen-direction).
    """
    a = np.asarray(as_array(a, "a"))
    h = positive_float(h, "h")
    n = positive_int(n, "n")
    z = a * h
    r, e = np.abs(1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24), np.exp(z)
    local = np.abs(z) ** 5 * np.exp(np.abs(z)) / 120.0
    return n * local * np.maximum(r, e) ** (n - 1) * abs(float(y0))


# --------------------------------------------------------------------------- linear systems


def as_symmetric_matrix(A, tol: float = 1e-10) -> jax.Array:
    """``A`` as a JAX array, checked to be a finite, non-empty, square matrix (shape ``(n, n)``) that
    is symmetric within ``tol * max(1, max|A|)`` (the symmetry is checked on concrete values only,
    not under ``jit``). Raises ``TypeError``/``ValueError`` naming ``A`` otherwise. Positive
    semi-definiteness is not checked here (:func:`linear_flow` checks it)."""
    A = as_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {A.shape}")
    tol = positive_float(tol, "tol")
    if is_concrete(A):
        An = np.asarray(A)
        scale = max(1.0, float(np.max(np.abs(An))))
        asym = float(np.max(np.abs(An - An.T)))
        if asym > tol * scale:
            raise ValueError(
                f"A must be symmetric (max |A - A^T| <= {tol:g} * max(1, max|A|)), got max |A - A^T| = {asym:.3e}"
            )
    return A


def linear_flow(A, g0, ts, *, tol: float = 1e-10) -> jax.Array:
    r"""The solution ``g(t) = exp(-A t) g0`` of ``dg/dt = -A g`` for symmetric positive
    semi-definite ``A``, through the eigendecomposition ``A = U diag(lam) U^T``:

    .. math:: g(t) = U \,\mathrm{diag}(e^{-\lambda_i t})\, U^\top g_0 ,

    so the component of ``g`` along eigenvector ``u_i`` decays like ``e^{-lam_i t}`` (and stays
    put along the null space of ``A``). With ``A = eta K / N`` and ``g0 = f_0 - Y`` this is the
    closed form of gradient flow on the mean squared error of a linearized model.

    Args:
      A: shape ``(n, n)``, symmetric within ``tol * max(1, max|A|)`` and positive semi-definite
        (smallest eigenvalue ``>= -tol * max(1, max|lam|)``; eigenvalues in ``[-tol*scale, 0)``
        are rounding and are set to 0).
      g0: shape ``(n,)`` or ``(n, k)`` (``k`` right-hand sides, e.g. ``k`` network outputs).
      ts: a time (shape ``()``) or times (shape ``(T,)``).

    Returns:
      shape ``g0.shape`` for a scalar time, ``(T,) + g0.shape`` for times ``(T,)``.

    References: Moler & Van Loan (2003), "Nineteen dubious ways to compute the exponential of a
    matrix", method 14 (eigenvectors); Lee et al. (2019), eq. (9).
    """
    A = as_symmetric_matrix(A, tol)
    n = A.shape[0]
    g0 = as_array(g0, "g0", ndim=(1, 2))
    if g0.shape[0] != n:
        raise ValueError(f"g0 must have {n} rows to match A of shape {A.shape}, got shape {g0.shape}")
    ts = as_array(ts, "ts", ndim=(0, 1))
    if is_concrete(A):
        lam = np.linalg.eigvalsh(0.5 * (np.asarray(A) + np.asarray(A).T))
        scale = max(1.0, float(np.max(np.abs(lam))))
        if float(lam[0]) < -tol * scale:
            raise ValueError(f"A must be positive semi-definite, got smallest eigenvalue {float(lam[0]):.3e}")
    return _finite_flow(_linear_flow(A, g0, ts), ts)


def _finite_flow(g: jax.Array, ts: jax.Array) -> jax.Array:
    """Refuse a trajectory that overflowed (e.g. ``t`` far below 0, where ``e^{-A t}`` grows)."""
    if is_concrete(g) and not bool(jnp.all(jnp.isfinite(g))):
        raise ValueError(
            f"ts gives exp(-A t) g0 beyond the float range (non-finite result), ts in "
            f"[{float(jnp.min(ts)):.3g}, {float(jnp.max(ts)):.3g}]"
        )
    return g


@jax.jit
def _linear_flow(A, g0, ts):
    lam, U = jnp.linalg.eigh(0.5 * (A + A.T))
    lam = jnp.maximum(lam, 0.0)  # eigenvalues in [-tol, 0) are rounding
    coeff = U.T @ g0  # (n,) or (n, k)

    def at(t):
        decay = jnp.exp(-lam * t)
        return U @ (decay[:, None] * coeff if coeff.ndim == 2 else decay * coeff)

    return at(ts) if ts.ndim == 0 else jax.vmap(at)(ts)


def expm_flow(A, g0, ts) -> jax.Array:
    """``exp(-A t) g0`` for any square ``A`` with ``jax.scipy.linalg.expm`` (scaling and squaring
    with a Pade approximant). Shapes as in :func:`linear_flow`; an independent oracle for it."""
    A = as_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {A.shape}")
    g0 = as_array(g0, "g0", ndim=(1, 2))
    if g0.shape[0] != A.shape[0]:
        raise ValueError(f"g0 must have {A.shape[0]} rows to match A of shape {A.shape}, got shape {g0.shape}")
    ts = as_array(ts, "ts", ndim=(0, 1))
    return _finite_flow(_expm_flow(A, g0, ts), ts)


@jax.jit
def _expm_flow(A, g0, ts):
    at = lambda t: jax.scipy.linalg.expm(-A * t) @ g0  # noqa: E731
    return at(ts) if ts.ndim == 0 else jax.vmap(at)(ts)


# --------------------------------------------------------------------------- right-hand sides


def scalar_rhs(y, t, a):
    """``dy/dt = a y`` (``y`` any shape; ``a`` a scalar or an array broadcasting against ``y``)."""
    return a * y


def linear_rhs(g, t, A):
    """``dg/dt = -A g`` (``A`` constant, shape ``(n, n)``; ``g`` shape ``(n,)`` or ``(n, k)``)."""
    return -A @ g
