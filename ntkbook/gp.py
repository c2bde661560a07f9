"""Chapter 6 -- Gaussian processes: prior samples with a kernel's covariance, the posterior
(conditioning a joint Gaussian on observed values), noisy observations and the marginal
likelihood.

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

References: Rasmussen & Williams (2006), *Gaussian Processes for Machine Learning*, ch. 2 and
appendix A.2; :cite:`weng2022ntk` (the section this chapter mirrors).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from .claims import check_close, check_monte_carlo, check_symbolic, claim
from .validate import as_array, is_concrete, positive_float, positive_int, prng_key

CHAPTER = "06-gaussian-processes"

__all__ = [
    "Posterior",
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
            raise ValueError(f"{name} must be symmetric, got max |{name} - {name}^T| = {asym:.3g} "
                             f"(largest entry {scale:.3g})")
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
            "pass noise > 0 to condition on noisy observations")
    return L


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
            raise ValueError(f"K must be positive semi-definite, got smallest eigenvalue {float(np.min(lam)):.3g} "
                             f"(largest {top:.3g}; rounding allowance {PSD_RTOL * ref:.3g})")
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
    """``C_hat = (1/S) sum_s f_s f_s^T``: the covariance estimate of zero-mean samples ``(S, n)`` -> ``(n, n)``."""
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
        raise ValueError(f"K must be a covariance (diagonal >= 0), got smallest diagonal entry {float(np.min(np.diag(np.asarray(K)))):.3g}")
    return _cov_se_core(K, num_samples)


@jax.jit
def _cov_se_core(K, num_samples):
    d = jnp.diag(K)
    return jnp.sqrt((jnp.outer(d, d) + K**2) / num_samples)


# --------------------------------------------------------------------------- the chapter's toy problem


def toy_inputs(key, n: int = 8, *, low: float = -3.0, high: float = 3.0) -> np.ndarray:
    """``n`` training inputs drawn uniformly on ``[low, high]``, sorted, shape ``(n,)``."""
    u = jax.random.uniform(prng_key(key), (positive_int(n, "n"),), dtype=jnp.float64)
    return np.sort(low + (high - low) * np.asarray(u))


def toy_function(x) -> np.ndarray:
    """The latent function of the chapter's 1-D example: ``sin(2x) + 0.3 x``, shape of ``x``."""
    x = np.asarray(as_array(x, "x"))
    return np.sin(2.0 * x) + 0.3 * x


# --------------------------------------------------------------------------- claims

# Two float64 evaluations of one formula through different factorisations (Cholesky solves vs
# LU / closed forms) agree to ~cond(K) * eps * scale. The matrices below are well conditioned
# (cond < 1e3, entries O(1)), so 1e-10 is generous for rounding and far below any formula error.
_ROUNDING_TOL = 1e-10


def _joint_kernel(x_train, x_test, **kw):
    x = jnp.concatenate([x_train, x_test])
    return rbf_kernel(x, x, **kw)


def _standard_gaussian_moment(k: int) -> int:
    # E[z^k] for z ~ N(0, 1): 0 for odd k, (k-1)!! for even k.
    return 0 if k % 2 else int(np.prod(np.arange(k - 1, 0, -2))) if k else 1


def _gaussian_expectation(expr, zs):
    """E[expr] for a polynomial ``expr`` in independent standard normals ``zs`` (exact, sympy)."""
    import sympy as sp

    poly = sp.Poly(sp.expand(expr), *zs)
    return sp.Add(*[c * sp.Mul(*[_standard_gaussian_moment(k) for k in mon]) for mon, c in poly.terms()])


@claim(CHAPTER, "The variance of a sample-covariance entry of N(0, K) samples is (K_ii K_jj + K_ij^2)/S",
       equation="eq-gp-cov-stderr")
def check_covariance_stderr_formula():
    import sympy as sp

    a, c = sp.symbols("a c", positive=True)
    b = sp.symbols("b", real=True)
    z1, z2 = sp.symbols("z1 z2", real=True)
    # Any bivariate N(0, K) is (f_i, f_j) = (a z1, b z1 + c z2): K_ii = a^2, K_ij = a b, K_jj = b^2 + c^2.
    fi, fj = a * z1, b * z1 + c * z2
    Kii, Kij, Kjj = _gaussian_expectation(fi**2, (z1, z2)), _gaussian_expectation(fi * fj, (z1, z2)), \
        _gaussian_expectation(fj**2, (z1, z2))
    var_product = _gaussian_expectation((fi * fj) ** 2, (z1, z2)) - Kij**2
    var_square = _gaussian_expectation(fi**4, (z1, z2)) - Kii**2
    return [
        check_symbolic("sympy: Var(f_i f_j) = K_ii K_jj + K_ij^2 (from moments of independent normals)",
                       var_product, Kii * Kjj + Kij**2),
        check_symbolic("sympy: the diagonal case Var(f_i^2) = 2 K_ii^2", var_square, 2 * Kii**2),
    ]


@claim(CHAPTER, "GP prior samples have covariance K_ij = k(x_i, x_j)", equation="eq-gp-prior", source_holds=True,
       where="Basics, Gaussian processes",
       source_says="each entry of the covariance matrix is the kernel evaluated at the pair of inputs")
def check_prior_covariance():
    x = np.linspace(-2.0, 2.0, 6)
    K = rbf_kernel(x, x, lengthscale=1.0)
    S = 20_000
    f = sample_prior(jax.random.key(0), K, S)
    A = psd_factor(K)
    return [
        check_close("eigh factor: A A^T vs K (6 inputs, RBF, l = 1)", A @ A.T, K, atol=_ROUNDING_TOL),
        check_monte_carlo(f"sample covariance of S = {S} prior draws vs K (6 x 6 entries)",
                          second_moment(f), K, covariance_stderr(K, S)),
    ]


@claim(CHAPTER, "Inputs the kernel calls similar get close function values: E[(f(x) - f(x'))^2] = K(x,x) + K(x',x') - 2K(x,x')",
       equation="eq-gp-similar", source_holds=True, where="Basics, Gaussian processes",
       source_says="inputs the kernel deems similar should have close function outputs")
def check_similar_inputs_close_outputs():
    x = np.array([0.0, 0.1, 0.5, 1.0, 2.0, 4.0])  # distances 0.1 ... 4 from x = 0
    K = rbf_kernel(x, x, lengthscale=1.0)
    S = 20_000
    f = np.asarray(sample_prior(jax.random.key(1), K, S))
    K = np.asarray(K)
    diff2 = (f[:, 1:] - f[:, :1]) ** 2
    expected = K[0, 0] + np.diag(K)[1:] - 2 * K[0, 1:]
    # f(x') - f(x) ~ N(0, d) with d the expected value: Var((f(x') - f(x))^2) = 2 d^2.
    return [
        check_monte_carlo(f"mean of (f(x') - f(0))^2 over S = {S} prior draws, x' = 0.1 ... 4",
                          np.mean(diff2, axis=0), expected, np.sqrt(2 / S) * expected),
        check_close("K(0,0) + K(x',x') - 2K(0,x') increases with |x'| (its differences are >= 0)",
                    np.minimum(np.diff(expected), 0.0), np.zeros(4), atol=0.0),
    ]


def _symbolic_block(n_obs: int):
    """Symbols for a joint Gaussian of ``n_obs`` observed values and one unknown value."""
    import sympy as sp

    k = sp.Matrix(n_obs, n_obs, lambda i, j: sp.Symbol(f"k{min(i, j) + 1}{max(i, j) + 1}", real=True))
    q = sp.Matrix(n_obs, 1, lambda i, _: sp.Symbol(f"q{i + 1}", real=True))
    c = sp.Symbol("c", positive=True)
    y = sp.Matrix(n_obs, 1, lambda i, _: sp.Symbol(f"y{i + 1}", real=True))
    f = sp.Symbol("f", real=True)
    return k, q, c, y, f


def symbolic_conditional(n_obs: int):
    """The posterior mean and variance of one unknown given ``n_obs`` observed values, from sympy.

    Returns ``(k, q, c, y, f, mu, s2)``: ``mu = q^T k^-1 y`` and ``s2 = c - q^T k^-1 q``.
    """
    import sympy as sp

    k, q, c, y, f = _symbolic_block(n_obs)
    kinv = k.inv()
    mu = sp.simplify((q.T * kinv * y)[0])
    s2 = sp.simplify(c - (q.T * kinv * q)[0])
    return k, q, c, y, f, mu, s2


@claim(CHAPTER, "Conditioning a joint Gaussian: p(f*, y) / p(y) is N(f*; K*^T K^-1 y, K** - K*^T K^-1 K*)",
       equation="eq-gp-posterior")
def check_posterior_symbolic():
    import sympy as sp

    out = []
    for n_obs in (1, 2):
        k, q, c, y, f, mu, s2 = symbolic_conditional(n_obs)
        Sigma = sp.BlockMatrix([[k, q], [q.T, sp.Matrix([[c]])]]).as_explicit()
        v = sp.Matrix.vstack(y, sp.Matrix([[f]]))
        # log p(y, f) - log p(y) = -(1/2)[v^T Sigma^-1 v - y^T k^-1 y] - (1/2) log(det Sigma / det k):
        # it is log N(f; mu, s2) iff the quadratic forms and the determinants match.
        quad_joint = (v.T * Sigma.inv() * v)[0]
        quad_marginal = (y.T * k.inv() * y)[0]
        out.append(check_symbolic(f"sympy, {n_obs} observed + 1 unknown: v^T Sigma^-1 v - y^T K^-1 y = (f - mu)^2 / s2",
                                  quad_joint - quad_marginal, (f - mu) ** 2 / s2))
        out.append(check_symbolic(f"sympy, {n_obs} observed + 1 unknown: det Sigma = det K * s2 (Schur complement)",
                                  Sigma.det(), k.det() * s2))
    return out


@functools.partial(jax.jit, static_argnums=(1, 2))
def _random_spd(key, count: int, n: int, shift: float = 0.5) -> jax.Array:
    """``count`` random symmetric positive definite ``(n, n)`` matrices ``B B^T / n + shift I``
    (eigenvalues ``>= shift``), vmapped over split keys: shape ``(count, n, n)``."""
    def one(k):
        B = jax.random.normal(k, (n, n))
        return B @ B.T / n + shift * jnp.eye(n)

    return jax.vmap(one)(jax.random.split(key, count))


@claim(CHAPTER, "gp.posterior (Cholesky solves) equals the sympy formula and the explicit-inverse formula",
       equation="eq-gp-posterior")
def check_posterior_matches_formula():
    import sympy as sp

    k, q, c, y, f, mu, s2 = symbolic_conditional(2)
    syms = [k[0, 0], k[0, 1], k[1, 1], q[0], q[1], c, y[0], y[1]]
    formula = sp.lambdify(syms, [mu, s2], modules="jax")
    # 16 random joint 3 x 3 covariances (2 observed + 1 unknown) and observations, vmapped.
    kS, kY = jax.random.split(jax.random.key(2))
    Sig = _random_spd(kS, 16, 3)
    ys = jax.random.normal(kY, (16, 2))
    ours = jax.jit(jax.vmap(lambda S, yy: posterior(S[:2, :2], S[:2, 2:], S[2:, 2:], yy)))(Sig, ys)
    ref = jax.jit(jax.vmap(lambda S, yy: jnp.stack(formula(S[0, 0], S[0, 1], S[1, 1], S[0, 2], S[1, 2], S[2, 2], yy[0], yy[1]))))(Sig, ys)
    # A larger case against the textbook formula with an explicit inverse (numpy, LU), with noise.
    x = np.linspace(-3, 3, 12)
    xs = np.linspace(-3.5, 3.5, 7)
    Kt, Kc, Ks = rbf_kernel(x, x), rbf_kernel(x, xs), rbf_kernel(xs, xs)
    yy = toy_function(x)
    noise = 0.01
    post = posterior(Kt, Kc, Ks, yy, noise)
    Kinv = np.linalg.inv(np.asarray(Kt) + noise * np.eye(12))
    return [
        check_close("posterior mean vs sympy q^T K^-1 y, 16 random 2+1 cases", ours.mean[:, 0], ref[:, 0], atol=_ROUNDING_TOL),
        check_close("posterior variance vs sympy c - q^T K^-1 q, 16 random 2+1 cases", ours.cov[:, 0, 0], ref[:, 1],
                    atol=_ROUNDING_TOL),
        check_close("posterior mean vs K*^T inv(K + s^2 I) y (numpy inverse), 12 train / 7 test, s^2 = 0.01",
                    post.mean, np.asarray(Kc).T @ Kinv @ np.asarray(yy), atol=_ROUNDING_TOL),
        check_close("posterior cov vs K** - K*^T inv(K + s^2 I) K* (numpy inverse)", post.cov,
                    np.asarray(Ks) - np.asarray(Kc).T @ Kinv @ np.asarray(Kc), atol=_ROUNDING_TOL),
    ]


@functools.partial(jax.jit, static_argnames=("num_samples", "n", "m"))
def regression_check(key, noise: float, num_samples: int, *, n: int = 3, m: int = 2):
    """Monte Carlo: draw joint prior samples of (f(X), f(X_*)), observe ``y = f(X) + noise``,
    regress the unknowns on ``y`` by least squares. Returns ``(B_hat, B_se, B, R_hat, R_se, C)``:
    the fitted coefficients ``(n, m)`` with standard errors and their expected value
    ``B = (K + noise I)^-1 K_*`` (so that the fitted mean is ``B^T y``), the residual covariance
    ``(m, m)`` with standard errors and the posterior covariance ``C``."""
    x = np.linspace(-1.5, 1.5, n)
    xs = np.linspace(-1.2, 1.8, m)
    Kj = _joint_kernel(x, xs)
    kf, ke = jax.random.split(key)
    F = sample_prior(kf, Kj, num_samples)
    Y = F[:, :n] + jnp.sqrt(noise) * jax.random.normal(ke, (num_samples, n))
    T = F[:, n:]
    G = Y.T @ Y
    B_hat = jnp.linalg.solve(G, Y.T @ T)
    R = T - Y @ B_hat
    dof = num_samples - n
    R_hat = R.T @ R / dof
    # Given Y, the OLS coefficients of column j are Gaussian with covariance R_jj (Y^T Y)^-1.
    B_se = jnp.sqrt(jnp.outer(jnp.diag(jnp.linalg.inv(G)), jnp.diag(R_hat)))
    post = posterior(Kj[:n, :n], Kj[:n, n:], Kj[n:, n:], jnp.zeros(n), noise)
    C = post.cov
    # The residual covariance is Wishart(C, dof) / dof: entry variance (C_ii C_jj + C_ij^2) / dof.
    R_se = covariance_stderr(C, dof)
    B = jsl.cho_solve((_cholesky(Kj[:n, :n], noise), True), Kj[:n, n:])
    return B_hat, B_se, B, R_hat, R_se, C


@claim(CHAPTER, "Regressing sampled unknowns on sampled observations recovers K*^T K^-1 and the posterior covariance",
       equation="eq-gp-posterior")
def check_posterior_regression():
    out = []
    S = 50_000
    for noise, seed in ((0.0, 3), (0.1, 4)):
        B_hat, B_se, B, R_hat, R_se, C = regression_check(jax.random.key(seed), noise, S)
        out.append(check_monte_carlo(f"regression coefficients vs (K + {noise:g} I)^-1 K*, S = {S}, 3 observed / 2 unknown",
                                     B_hat, B, B_se))
        out.append(check_monte_carlo(f"residual covariance vs K** - K*^T (K + {noise:g} I)^-1 K*, S = {S}",
                                     R_hat, C, R_se))
    return out


@claim(CHAPTER, "Noise-free, the posterior interpolates: mean = y and covariance = 0 at the observed inputs",
       equation="eq-gp-posterior")
def check_noise_free_interpolation():
    x = toy_inputs(jax.random.key(5))
    K = rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    post = posterior(K, K, K, y)
    Kn = np.asarray(K)
    cond = float(np.linalg.cond(Kn))
    # K alpha = y is solved by Cholesky, backward stable: the residual K alpha - y (= mean - y) is
    # ~ n eps |K| |alpha| however ill-conditioned K is; likewise K - V^T V with V = L^-1 K = L^T.
    alpha = np.linalg.solve(Kn, np.asarray(y))
    eps = float(np.finfo(np.float64).eps)
    n = x.shape[0]
    tol_mean = 10 * n**2 * eps * float(np.max(np.abs(Kn)) * np.max(np.abs(alpha)))
    tol_cov = 10 * n**2 * eps * float(np.max(np.abs(Kn)))
    return [
        check_close(f"posterior mean at the {n} training inputs vs y (noise 0, cond K = {cond:.0e})", post.mean, y,
                    atol=tol_mean, detail="tol = 10 n^2 eps max|K| max|K^-1 y| (backward stability of Cholesky)"),
        check_close(f"posterior covariance at the {n} training inputs vs 0", post.cov, np.zeros((n, n)), atol=tol_cov,
                    detail="tol = 10 n^2 eps max|K| (Cholesky backward error, then a triangular solve and a product)"),
    ]


@claim(CHAPTER, "With noise s^2 I the posterior mean does not interpolate: y - mean = s^2 (K + s^2 I)^-1 y",
       equation="eq-gp-noisy")
def check_noisy_posterior():
    x = toy_inputs(jax.random.key(5))
    K = rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    noise = 0.1
    post = posterior(K, K, K, y, noise)
    y = np.asarray(y)
    resid = noise * np.linalg.solve(np.asarray(K) + noise * np.eye(x.shape[0]), y)
    return check_close("y - posterior mean vs s^2 (K + s^2 I)^-1 y (numpy solve) at the 8 training inputs, s^2 = 0.1",
                       y - np.asarray(post.mean), resid, atol=_ROUNDING_TOL)


def _toy_posterior(noise: float, m: int = 5):
    x = toy_inputs(jax.random.key(5))
    xs = np.linspace(-2.5, 2.5, m)
    kw = dict(lengthscale=0.7)
    return x, xs, rbf_kernel(x, x, **kw), rbf_kernel(x, xs, **kw), rbf_kernel(xs, xs, **kw), toy_function(x)


@claim(CHAPTER, "Samples from the conditional distribution reproduce its mean and covariance",
       equation="eq-gp-posterior", source_holds=True, where="Basics, Gaussian processes",
       source_says="predictions for unknown points come from the conditional distribution given the observed ones")
def check_posterior_samples():
    noise = 0.01
    x, xs, Kt, Kc, Ks, y = _toy_posterior(noise)
    S = 20_000
    mean, cov = map(np.asarray, posterior(Kt, Kc, Ks, y, noise))
    f = np.asarray(sample_posterior(jax.random.key(6), Kt, Kc, Ks, y, S, noise))
    centred = f - mean
    d = np.diag(cov)
    return [
        check_monte_carlo(f"mean of S = {S} posterior draws vs posterior mean ({len(xs)} test inputs)", f.mean(axis=0),
                          mean, np.sqrt(d / S)),
        check_monte_carlo(f"covariance of S = {S} posterior draws about the mean vs posterior cov", centred.T @ centred / S,
                          cov, np.sqrt((np.outer(d, d) + cov**2) / S)),
    ]


@functools.partial(jax.jit, static_argnames=("num_samples", "n", "m"))
def risk_check(key, num_samples: int, noise: float = 0.01, *, n: int = 3, m: int = 2):
    """Monte Carlo over the GP model itself: truth and data drawn jointly from the prior.

    Returns ``(mse_mean, mse_sample, C_diag)``: per test input, the mean squared error of the
    posterior mean and of one posterior draw used as the prediction, and the posterior variance.
    """
    x = np.linspace(-1.5, 1.5, n)
    xs = np.linspace(-1.2, 1.8, m)
    Kj = _joint_kernel(x, xs)
    kf, ke, kp = jax.random.split(key, 3)
    F = sample_prior(kf, Kj, num_samples)
    Y = F[:, :n] + jnp.sqrt(noise) * jax.random.normal(ke, (num_samples, n))
    T = F[:, n:]
    L = _cholesky(Kj[:n, :n], noise)
    B = jsl.cho_solve((L, True), Kj[:n, n:])  # posterior mean is B^T y (linear in y)
    C = Kj[n:, n:] - Kj[:n, n:].T @ B
    means = Y @ B
    draws = means + sample_prior(kp, C, num_samples)  # one posterior draw per data set
    return jnp.mean((T - means) ** 2, axis=0), jnp.mean((T - draws) ** 2, axis=0), jnp.diag(C)


@claim(CHAPTER, "The point prediction is the posterior mean: a single posterior draw has twice its mean squared error",
       equation="eq-gp-posterior")
def check_prediction_is_mean():
    S = 50_000
    mse_mean, mse_draw, c = map(np.asarray, risk_check(jax.random.key(7), S))
    # The error of the mean is N(0, c), of a draw N(0, 2c): Var of a squared N(0, v) is 2 v^2.
    return [
        check_monte_carlo(f"MSE of the posterior mean vs posterior variance, S = {S} data sets", mse_mean, c,
                          np.sqrt(2 / S) * c),
        check_monte_carlo(f"MSE of one posterior draw vs 2 x posterior variance, S = {S}", mse_draw, 2 * c,
                          np.sqrt(2 / S) * 2 * c),
    ]


@claim(CHAPTER, "log_marginal_likelihood (Cholesky) equals the multivariate normal log-density (scipy)",
       equation="eq-gp-lml")
def check_log_marginal_likelihood():
    from scipy.stats import multivariate_normal

    x = toy_inputs(jax.random.key(5))
    K = rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    out = []
    for noise in (0.0, 0.1):
        Ky = np.asarray(K) + noise * np.eye(8)
        ref = multivariate_normal(mean=np.zeros(8), cov=Ky).logpdf(np.asarray(y))
        # scipy uses eigh, we use Cholesky: both solve with K_y, so they differ by ~ cond(K_y) eps |y^T K_y^-1 y|.
        tol = 10 * float(np.linalg.cond(Ky)) * float(np.finfo(np.float64).eps) * max(1.0, abs(float(ref)))
        out.append(check_close(f"log N(y; 0, K + {noise:g} I) vs scipy.stats.multivariate_normal.logpdf, 8 points",
                               log_marginal_likelihood(K, y, noise), ref, atol=tol,
                               detail="tol = 10 cond(K_y) eps max(1, |log p|)"))
    return out
