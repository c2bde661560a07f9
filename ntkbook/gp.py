"""Gaussian processes: prior samples with a kernel's covariance, the posterior (conditioning a
joint Gaussian on observed values), noisy observations and the marginal likelihood.

A zero-mean Gaussian process with covariance function ``k`` says: for any finite set of inputs
``x_1..x_n`` the *function values* ``f(x_1)..f(x_n)`` are jointly Gaussian with covariance
``K[i, j] = k(x_i, x_j)`` :cite:`rasmussen2006gpml`. Every function here works on kernel
*matrices*, so any kernel can be plugged in -- the NNGP and NTK chapters use them with the
infinite-width network kernels as covariances.

Shapes: ``n`` training (observed) points, ``m`` test (unknown) points, ``k`` output columns.

* ``K_train``: ``(n, n)``, ``K(X, X)``;
* ``K_cross``: ``(n, m)``, ``K(X, X_*)``;
* ``K_test``: ``(m, m)``, ``K(X_*, X_*)``;
* ``y``: ``(n,)`` or ``(n, k)`` (each column conditioned independently, same covariance).

``noise`` is the observation-noise *variance* ``sigma^2``: ``y = f(X) + eps``,
``eps ~ N(0, sigma^2 I)``.

The chapter that narrates these (toy problem, studies, claims) is
``ntkbook.chapters.c06_gaussian_processes``.

References: Rasmussen & Williams (2006), *Gaussian Processes for Machine Learning*, ch. 2 and
appendix A.2; :cite:`weng2022ntk`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from .validate import as_array, is_concrete, positive_float, positive_int, prng_key

__all__ = [
    "PSD_RTOL",
    "Posterior",
    "SYMMETRY_RTOL",
    "cholesky_factor",
    "covariance_stderr",
    "log_marginal_likelihood",
    "posterior",
    "psd_factor",
    "rbf_kernel",
    "sample_posterior",
    "sample_prior",
    "second_moment",
]

# Relative tolerance for "K is symmetric": kernels computed entry by entry (k(x, x') and
# k(x', x) through different roundings) may differ by a few ulps; anything beyond ~1e-10 of
# the largest entry is not rounding.
SYMMETRY_RTOL = 1e-10
# Relative tolerance for "K is positive semi-definite": eigh computes the eigenvalues of a
# PSD matrix with absolute errors ~ n eps ||K||; a computed covariance such as the posterior
# K** - K*^T K^-1 K* carries errors ~ cond(K) eps |K**|. sqrt(eps) ~ 1.5e-8 (relative to the
# largest eigenvalue, or to |K**| for a posterior) lets both through for cond(K) up to ~1e8 and
# still refuses any genuinely indefinite matrix.
PSD_RTOL = float(np.sqrt(np.finfo(np.float64).eps))


# --------------------------------------------------------------------------- validation


def _matrix(K, name: str, *, square: bool = True, symmetric: bool = True) -> jax.Array:
    K = as_array(K, name, ndim=2)
    if square and K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be square, got shape {K.shape}")
    if K.shape[0] == 0 or K.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {K.shape}")
    if symmetric and is_concrete(K):
        Kn = np.asarray(K)  # checks in NumPy: no JAX compilation per matrix shape
        asym = float(np.max(np.abs(Kn - Kn.T)))
        scale = float(np.max(np.abs(Kn)))
        if asym > SYMMETRY_RTOL * max(scale, 1e-300):
            raise ValueError(
                f"{name} must be symmetric, got max |{name} - {name}^T| = {asym:.3g} (largest entry {scale:.3g})"
            )
    return K


def _check_gp_inputs(K_train, K_cross, K_test, y, noise):
    K_train = _matrix(K_train, "K_train")
    n = K_train.shape[0]
    K_cross = _matrix(K_cross, "K_cross", square=False, symmetric=False)
    if K_cross.shape[0] != n:
        raise ValueError(f"K_cross must have shape (n, m) with n = {n} rows (the size of K_train), got {K_cross.shape}")
    m = K_cross.shape[1]
    K_test = _matrix(K_test, "K_test")
    if K_test.shape != (m, m):
        raise ValueError(f"K_test must have shape (m, m) = ({m}, {m}) to match K_cross, got {K_test.shape}")
    y = as_array(y, "y", ndim=(1, 2))
    if y.shape[0] != n:
        raise ValueError(f"y must have n = {n} rows (the size of K_train), got shape {y.shape}")
    noise = _noise(noise)
    return K_train, K_cross, K_test, y, noise


def _noise(noise):
    """A non-negative finite scalar; a traced value (inside jit/vmap/grad) is passed through."""
    if isinstance(noise, jax.core.Tracer):
        if noise.shape != ():
            raise ValueError(f"noise must be a scalar, got shape {noise.shape}")
        return noise
    if isinstance(noise, (jax.Array, np.ndarray)) and noise.shape == ():
        noise = noise.item()
    return positive_float(noise, "noise", allow_zero=True)


def _sym(K):
    return 0.5 * (K + K.T)


@jax.jit
def _cholesky_core(K_train, noise):
    return jnp.linalg.cholesky(_sym(K_train) + noise * jnp.eye(K_train.shape[0], dtype=K_train.dtype))


def _cholesky(K_train: jax.Array, noise) -> jax.Array:
    L = _cholesky_core(K_train, noise)
    if is_concrete(L) and not np.all(np.isfinite(np.asarray(L))):
        raise ValueError(
            f"K_train + noise * I must be positive definite (its Cholesky factorisation failed, noise = {float(noise):g}); "
            "with noise = 0 this needs distinct training inputs and a strictly positive definite kernel -- "
            "pass noise > 0 to condition on noisy observations"
        )
    return L


def cholesky_factor(K_train, noise: float = 0.0) -> jax.Array:
    """The lower Cholesky factor ``L`` of ``K_y = K_train + noise I``: ``L L^T = K_y``.

    The factorisation :func:`posterior` and :func:`log_marginal_likelihood` solve with; works
    under ``jit``/``vmap`` (then ``K_train`` is not checked for symmetry, nor ``L`` for finiteness).

    Args:
      K_train: shape ``(n, n)``, symmetric, positive definite after adding ``noise``.
      noise: observation-noise variance ``sigma^2 >= 0``.

    Returns:
      ``L``, shape ``(n, n)``, lower triangular.
    """
    K_train = _matrix(K_train, "K_train")
    return _cholesky(K_train, _noise(noise))


# --------------------------------------------------------------------------- kernels and factors


def rbf_kernel(x1, x2, *, lengthscale: float = 1.0, variance: float = 1.0) -> jax.Array:
    """The squared-exponential kernel ``k(x, x') = variance * exp(-|x - x'|^2 / (2 lengthscale^2))``.

    Args:
      x1: inputs, shape ``(n,)`` (scalars) or ``(n, d)``.
      x2: inputs, shape ``(m,)`` or ``(m, d)``, same ``d``.

    Returns:
      the kernel matrix, shape ``(n, m)``.

    References: Rasmussen & Williams (2006), eq. 2.31.
    """
    x1 = as_array(x1, "x1", ndim=(1, 2))
    x2 = as_array(x2, "x2", ndim=(1, 2))
    x1 = x1[:, None] if x1.ndim == 1 else x1
    x2 = x2[:, None] if x2.ndim == 1 else x2
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must have the same input dimension, got {x1.shape} and {x2.shape}")
    lengthscale = positive_float(lengthscale, "lengthscale")
    variance = positive_float(variance, "variance")
    return _rbf_core(x1, x2, lengthscale, variance)


@jax.jit
def _rbf_core(x1, x2, lengthscale, variance):
    sq = jnp.sum((x1[:, None, :] - x2[None, :, :]) ** 2, axis=-1)
    return variance * jnp.exp(-0.5 * sq / lengthscale**2)


def psd_factor(K, *, scale: float | None = None) -> jax.Array:
    """A factor ``A`` with ``A A^T = K`` for a symmetric positive **semi**-definite ``K``, by ``eigh``.

    ``K = V diag(lam) V^T`` gives ``A = V diag(sqrt(max(lam, 0)))``. Unlike a Cholesky factor this
    needs no jitter: kernel matrices on nearby inputs, and posterior covariances (which vanish at
    the observed points), are singular to working precision, and Cholesky fails on them. The
    negative eigenvalues clipped to 0 are rounding (at most ``PSD_RTOL * scale``, checked), so
    ``A A^T`` differs from ``K`` by at most that much.

    Args:
      K: shape ``(n, n)``, symmetric PSD.
      scale: the size that rounding errors in ``K`` are relative to; default ``max |lam|``. A
        computed covariance such as a noise-free posterior may be zero up to rounding, and its
        rounding is relative to the matrices it was computed from (:func:`sample_posterior`
        passes ``max |K_test|``).

    Returns:
      ``A``, shape ``(n, n)``.
    """
    K = _matrix(K, "K")
    A, lam = _psd_factor_core(K)
    if is_concrete(lam):
        lam = np.asarray(lam)
        top = float(np.max(np.abs(lam)))
        ref = top if scale is None else max(top, positive_float(scale, "scale", allow_zero=True))
        if float(np.min(lam)) < -PSD_RTOL * ref:
            raise ValueError(
                f"K must be positive semi-definite, got smallest eigenvalue {float(np.min(lam)):.3g} "
                f"(largest {top:.3g}; rounding allowance {PSD_RTOL * ref:.3g})"
            )
    return A


@jax.jit
def _psd_factor_core(K):
    lam, V = jnp.linalg.eigh(_sym(K))
    return V * jnp.sqrt(jnp.clip(lam, 0.0))[None, :], lam


@functools.partial(jax.jit, static_argnums=3)
def _gaussian_draws(key, A: jax.Array, mean: jax.Array, num_samples: int) -> jax.Array:
    n = A.shape[0]
    keys = jax.random.split(key, num_samples)
    # One standard normal vector per sample, mapped over the samples with vmap.
    return jax.vmap(lambda k: mean + A @ jax.random.normal(k, (n,), dtype=A.dtype))(keys)


def sample_prior(key, K, num_samples: int) -> jax.Array:
    """Draw function values from the zero-mean GP prior: ``f ~ N(0, K)``.

    ``f = A z`` with ``z ~ N(0, I)`` and ``A A^T = K`` (:func:`psd_factor`, eigh, no jitter), so
    ``Cov(f) = A A^T = K``.

    Args:
      key: a JAX PRNG key.
      K: the kernel matrix at the inputs, shape ``(n, n)``, symmetric PSD.
      num_samples: ``S >= 1``.

    Returns:
      samples, shape ``(S, n)``: row ``s`` is one function evaluated at the ``n`` inputs.

    References: Rasmussen & Williams (2006), appendix A.2.
    """
    key = prng_key(key)
    num_samples = positive_int(num_samples, "num_samples")
    A = psd_factor(K)
    return _gaussian_draws(key, A, jnp.zeros(A.shape[0], A.dtype), num_samples)


# --------------------------------------------------------------------------- the posterior


class Posterior(NamedTuple):
    """The conditional distribution of the test values given the observations.

    Attributes:
      mean: ``K_cross^T (K_train + noise I)^-1 y``, shape ``(m,)`` (or ``(m, k)`` for ``y`` of shape ``(n, k)``).
      cov: ``K_test - K_cross^T (K_train + noise I)^-1 K_cross``, shape ``(m, m)``.
    """

    mean: jax.Array
    cov: jax.Array


def posterior(K_train, K_cross, K_test, y, noise: float = 0.0) -> Posterior:
    """Condition the GP on (noisy) observations: the distribution of ``f(X_*)`` given ``y``.

    With ``K_y = K_train + noise I = L L^T`` (Cholesky; no explicit inverse),

    .. math::
        \\mu_* = K_*^T K_y^{-1} y = K_*^T L^{-T} L^{-1} y, \\qquad
        \\Sigma_* = K_{**} - K_*^T K_y^{-1} K_* = K_{**} - V^T V, \\quad V = L^{-1} K_*.

    Args:
      K_train: ``K(X, X)``, shape ``(n, n)``, symmetric positive definite after adding ``noise``.
      K_cross: ``K(X, X_*)``, shape ``(n, m)``.
      K_test: ``K(X_*, X_*)``, shape ``(m, m)``, symmetric.
      y: observations, shape ``(n,)`` or ``(n, k)``, finite.
      noise: observation-noise variance ``sigma^2 >= 0``.

    Returns:
      :class:`Posterior` ``(mean, cov)``, shapes ``(m,)`` (or ``(m, k)``) and ``(m, m)``.

    References: Rasmussen & Williams (2006), eqs. 2.19 and 2.22-2.24 and algorithm 2.1.
    """
    K_train, K_cross, K_test, y, noise = _check_gp_inputs(K_train, K_cross, K_test, y, noise)
    L = _cholesky(K_train, noise)
    return _posterior_core(L, K_cross, K_test, y)


@jax.jit
def _posterior_core(L, K_cross, K_test, y):
    alpha = jsl.cho_solve((L, True), y)
    mean = K_cross.T @ alpha
    V = jsl.solve_triangular(L, K_cross, lower=True)
    return Posterior(mean, _sym(_sym(K_test) - V.T @ V))


def sample_posterior(key, K_train, K_cross, K_test, y, num_samples: int, noise: float = 0.0) -> jax.Array:
    """Draw test values from the posterior :func:`posterior`: ``f_* ~ N(mu_*, Sigma_*)``.

    The posterior covariance is only semi-definite (it vanishes at observed inputs when
    ``noise = 0``), so it is factored with :func:`psd_factor` (eigh), not Cholesky.

    Args:
      key: a JAX PRNG key.
      K_train, K_cross, K_test, y, noise: as in :func:`posterior`; ``y`` of shape ``(n,)``.
      num_samples: ``S >= 1``.

    Returns:
      samples, shape ``(S, m)``.
    """
    key = prng_key(key)
    num_samples = positive_int(num_samples, "num_samples")
    if np.ndim(y) != 1:
        raise ValueError(f"y must have 1 dimension for sampling, got shape {np.shape(y)}")
    mean, cov = posterior(K_train, K_cross, K_test, y, noise)
    scale = float(np.max(np.abs(np.asarray(K_test)))) if is_concrete(cov) else None
    return _gaussian_draws(key, psd_factor(cov, scale=scale), mean, num_samples)


def log_marginal_likelihood(K_train, y, noise: float = 0.0) -> jax.Array:
    """``log p(y) = -y^T K_y^{-1} y / 2 - log det K_y / 2 - n log(2 pi) / 2``, ``K_y = K_train + noise I``.

    With ``K_y = L L^T``: ``log det K_y = 2 sum log L_ii`` and ``y^T K_y^{-1} y = |L^{-1} y|^2``.

    Args:
      K_train: shape ``(n, n)``; y: shape ``(n,)``; noise: ``sigma^2 >= 0``.

    Returns:
      a scalar.

    References: Rasmussen & Williams (2006), eq. 2.30 and algorithm 2.1.
    """
    K_train = _matrix(K_train, "K_train")
    n = K_train.shape[0]
    y = as_array(y, "y", ndim=1)
    if y.shape != (n,):
        raise ValueError(f"y must have shape (n,) = ({n},) to match K_train, got {y.shape}")
    noise = _noise(noise)
    L = _cholesky(K_train, noise)
    return _lml_core(L, y)


@jax.jit
def _lml_core(L, y):
    w = jsl.solve_triangular(L, y, lower=True)
    return -0.5 * w @ w - jnp.sum(jnp.log(jnp.diag(L))) - 0.5 * y.shape[0] * jnp.log(2 * jnp.pi)


# --------------------------------------------------------------------------- Monte Carlo helpers


def second_moment(samples) -> jax.Array:
    """``C_hat = (1/S) sum_s f_s f_s^T``: the covariance estimate of zero-mean samples ``(S, n)``, of shape ``(n, n)``."""
    f = as_array(samples, "samples", ndim=2)
    return _second_moment_core(f)


@jax.jit
def _second_moment_core(f):
    return f.T @ f / f.shape[0]


def covariance_stderr(K, num_samples: int) -> jax.Array:
    """Standard error of each entry of :func:`second_moment` for ``S`` samples of ``N(0, K)``.

    ``Var(f_i f_j) = E[f_i^2 f_j^2] - K_ij^2 = K_ii K_jj + K_ij^2`` (Isserlis), so
    ``se_ij = sqrt((K_ii K_jj + K_ij^2) / S)``. Shape ``(n, n)``.
    """
    K = _matrix(K, "K")
    num_samples = positive_int(num_samples, "num_samples")
    if is_concrete(K) and float(np.min(np.diag(np.asarray(K)))) < 0:
        raise ValueError(
            f"K must be a covariance (diagonal >= 0), got smallest diagonal entry {float(np.min(np.diag(np.asarray(K)))):.3g}"
        )
    return _cov_se_core(K, num_samples)


@jax.jit
def _cov_se_core(K, num_samples):
    d = jnp.diag(K)
    return jnp.sqrt((jnp.outer(d, d) + K**2) / num_samples)
