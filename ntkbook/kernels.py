"""Chapter 5 -- kernels and kernel methods: common kernels as Gram-matrix functions, symmetry and
positive semi-definiteness, feature maps (explicit for the polynomial kernel, random Fourier
features for the RBF kernel), and three ways to predict with a kernel: the raw weighted sum of
labels, kernel ridge regression and the Nadaraya--Watson weighted average.

Shapes: inputs are ``(N, d)`` arrays of ``N`` points in ``R^d``; a kernel function returns the
``(N1, N2)`` matrix ``K[i, j] = k(x1[i], x2[j])``. Predictors take Gram matrices, so that the
Gaussian-process and NTK chapters can reuse them with their own kernels.

References: Schoelkopf & Smola, *Learning with Kernels* (2002); Rasmussen & Williams, *Gaussian
Processes for Machine Learning* (2006), ch. 2 and 4; Rahimi & Recht (2007); Nadaraya (1964);
Watson (1964); Weng (2022), "Kernel & kernel methods".
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim, shown
from .validate import as_array, is_concrete, positive_float, positive_int, prng_key

CHAPTER = "05-kernels"

__all__ = [
    "is_psd",
    "kernel_ridge_fit",
    "kernel_ridge_predict",
    "linear",
    "min_eig_ratio",
    "nadaraya_watson",
    "polynomial",
    "polynomial_feature_map",
    "psd_tolerance",
    "random_fourier_features",
    "rbf",
    "weighted_sum_predict",
]


# --------------------------------------------------------------------------- kernels


def _pair(x1: Any, x2: Any) -> tuple[jax.Array, jax.Array]:
    x1 = as_array(x1, "x1", ndim=2)
    x2 = as_array(x2, "x2", ndim=2)
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must have the same number of features (columns), got {x1.shape} and {x2.shape}")
    return x1, x2


def linear(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """Linear kernel ``k(x, x') = x^T x'``.

    Args:
      x1: shape ``(N1, d)``; x2: shape ``(N2, d)``.

    Returns:
      ``(N1, N2)``, ``x1 @ x2.T``.
    """
    x1, x2 = _pair(x1, x2)
    return x1 @ x2.T


def polynomial(x1: jax.Array, x2: jax.Array, degree: int = 2, c: float = 1.0) -> jax.Array:
    """Polynomial kernel ``k(x, x') = (x^T x' + c)^p``, ``p = degree >= 1``, ``c >= 0``.

    Returns ``(N1, N2)``. With ``c >= 0`` it is a kernel: a sum of products of positive
    semi-definite kernels (Schur product theorem); :func:`polynomial_feature_map` gives its features.
    """
    x1, x2 = _pair(x1, x2)
    p = positive_int(degree, "degree")
    c = positive_float(c, "c", allow_zero=True)
    return (x1 @ x2.T + c) ** p


def _sqdist(x1: jax.Array, x2: jax.Array) -> jax.Array:
    # Differences, not |x|^2 + |x'|^2 - 2 x.x': never negative, exactly symmetric for x1 = x2.
    return jnp.sum((x1[:, None, :] - x2[None, :, :]) ** 2, axis=-1)


def rbf(x1: jax.Array, x2: jax.Array, lengthscale: float = 1.0) -> jax.Array:
    """RBF (squared-exponential, Gaussian) kernel ``k(x, x') = exp(-|x - x'|^2 / (2 l^2))``.

    Returns ``(N1, N2)``; ``lengthscale = l > 0``.
    """
    x1, x2 = _pair(x1, x2)
    ell = positive_float(lengthscale, "lengthscale")
    return jnp.exp(-_sqdist(x1, x2) / (2 * ell**2))


def polynomial_feature_map(x: jax.Array, degree: int = 2, c: float = 1.0) -> jax.Array:
    """Explicit features of the polynomial kernel: ``polynomial(x, x') = phi(x) @ phi(x').T``.

    By the multinomial theorem, ``(x^T x' + c)^p = sum_{|alpha| = p} C(p; alpha) c^{alpha_0}
    prod_i (x_i x'_i)^{alpha_i}`` over multi-indices ``alpha = (alpha_0, ..., alpha_d)``, so
    ``phi_alpha(x) = sqrt(C(p; alpha) c^{alpha_0}) prod_{i>=1} x_i^{alpha_i}`` with the
    multinomial coefficient ``C(p; alpha) = p! / (alpha_0! ... alpha_d!)``.

    Args:
      x: shape ``(N, d)``.

    Returns:
      shape ``(N, binom(p + d, d))``.
    """
    x = as_array(x, "x", ndim=2)
    p = positive_int(degree, "degree")
    c = positive_float(c, "c", allow_zero=True)
    alphas, coef = polynomial_multi_indices(x.shape[1], p, c)
    powers = jnp.asarray(alphas[:, 1:], dtype=x.dtype)  # (F, d)
    monomials = jnp.prod(x[:, None, :] ** powers[None, :, :], axis=-1)  # (N, F)
    return monomials * jnp.asarray(np.sqrt(coef), dtype=x.dtype)


def polynomial_multi_indices(d: int, p: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """The multi-indices ``alpha = (alpha_0, ..., alpha_d)`` with ``|alpha| = p`` (shape ``(F, d + 1)``)
    and the squared feature weights ``C(p; alpha) c^{alpha_0}`` (shape ``(F,)``) of
    :func:`polynomial_feature_map`."""
    alphas = np.array([a for a in itertools.product(range(p + 1), repeat=d + 1) if sum(a) == p], dtype=int)
    coef = np.array([math.factorial(p) / math.prod(math.factorial(k) for k in a) * c ** a[0] for a in alphas])
    return alphas, coef


def random_fourier_features(key: jax.Array, x: jax.Array, num_features: int, lengthscale: float = 1.0) -> jax.Array:
    """Random Fourier features for the RBF kernel (Rahimi & Recht 2007).

    ``phi(x) = sqrt(2 / D) cos(W^T x + b)``, ``W`` of shape ``(d, D)`` with i.i.d.
    ``N(0, 1 / l^2)`` entries (the spectral density of the RBF kernel, by Bochner's theorem) and
    ``b ~ U[0, 2 pi)``. Then ``E[phi(x) . phi(x')] = exp(-|x - x'|^2 / (2 l^2))`` and
    ``phi(x1) @ phi(x2).T`` is an average of ``D`` i.i.d. terms: its error is ``O(D^{-1/2})``.

    Args:
      key: a JAX PRNG key (keyword ``key``; the same key gives the same features for any ``x``).
      x: shape ``(N, d)``.
      num_features: ``D >= 1``.
      lengthscale: ``l > 0``.

    Returns:
      shape ``(N, D)``.
    """
    key = prng_key(key, "key")
    x = as_array(x, "x", ndim=2)
    D = positive_int(num_features, "num_features")
    ell = positive_float(lengthscale, "lengthscale")
    kw, kb = jax.random.split(key)
    W = jax.random.normal(kw, (x.shape[1], D), dtype=x.dtype) / ell
    b = jax.random.uniform(kb, (D,), dtype=x.dtype, minval=0.0, maxval=2 * jnp.pi)
    return jnp.sqrt(2.0 / D) * jnp.cos(x @ W + b)


# --------------------------------------------------------------------------- positive semi-definiteness


def _square(K: Any, name: str = "K") -> jax.Array:
    K = as_array(K, name, ndim=2)
    if K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {K.shape}")
    return K


def psd_tolerance(K: jax.Array) -> float:
    """The default tolerance ``n * eps`` on ``lambda_min / lambda_max`` for an ``n x n`` matrix.

    A symmetric eigensolver is backward stable: its eigenvalues are exact for ``K + E`` with
    ``|E|_2 <~ c n eps |K|_2`` (and forming ``K`` in floating point adds a perturbation of the same
    kind). By Weyl's inequality each computed eigenvalue is then within ``|E|_2`` of the true one,
    so a PSD matrix with (near-)zero eigenvalues can show ``lambda_min`` down to about
    ``-n eps lambda_max``, never much below.
    """
    K = _square(K)
    return float(K.shape[0] * jnp.finfo(K.dtype).eps)


def min_eig_ratio(K: jax.Array) -> float:
    """``lambda_min(K) / lambda_max(K)`` of a symmetric matrix (``lambda_max > 0``); ``eigvalsh``."""
    K = _square(K)
    ev = jnp.linalg.eigvalsh(K)
    top = float(ev[-1])
    if not top > 0:
        raise ValueError(f"K must have a positive largest eigenvalue, got {top}")
    return float(ev[0]) / top


def is_psd(K: jax.Array, *, rtol: float | None = None) -> bool:
    """Whether ``K`` is symmetric and positive semi-definite up to rounding.

    Symmetric: ``max |K - K^T| <= rtol * max |K|``. PSD: ``lambda_min >= -rtol * lambda_max``.
    The default ``rtol`` is :func:`psd_tolerance`, ``n * eps``.
    """
    K = _square(K)
    tol = psd_tolerance(K) if rtol is None else positive_float(rtol, "rtol", allow_zero=True)
    scale = float(jnp.max(jnp.abs(K)))
    if float(jnp.max(jnp.abs(K - K.T))) > tol * scale:
        return False
    if scale == 0.0:
        return True
    return min_eig_ratio((K + K.T) / 2) >= -tol


# --------------------------------------------------------------------------- prediction


def _gram_and_targets(K: Any, y: Any) -> tuple[jax.Array, jax.Array]:
    K = _square(K, "K")
    y = as_array(y, "y", ndim=(1, 2))
    if y.shape[0] != K.shape[0]:
        raise ValueError(f"y must have one row per training point, K.shape[0] = {K.shape[0]}, got y.shape {y.shape}")
    return K, y


def _cross(K_cross: Any, n: int, name: str = "K_cross") -> jax.Array:
    Kc = as_array(K_cross, name, ndim=2)
    if Kc.shape[1] != n:
        raise ValueError(f"{name} must have shape (M, N) with N = {n} training points, got {Kc.shape}")
    return Kc


def kernel_ridge_fit(K: jax.Array, y: jax.Array, reg: float) -> jax.Array:
    """Kernel ridge regression weights ``alpha = (K + lambda I)^{-1} y``.

    The predictor is ``f(x) = sum_i alpha_i k(x^(i), x)`` (:func:`kernel_ridge_predict`): the
    minimiser of ``sum_i (f(x^(i)) - y^(i))^2 + lambda |f|_H^2`` over the kernel's RKHS
    (representer theorem). Solved by a Cholesky factorisation when ``lambda > 0`` and by an LU
    solve (``jnp.linalg.solve``) when ``lambda = 0`` (interpolation; ``K`` must be non-singular).

    Args:
      K: the training Gram matrix, shape ``(N, N)``, symmetric PSD.
      y: targets, shape ``(N,)`` or ``(N, k)``.
      reg: ``lambda >= 0``.

    Returns:
      ``alpha``, shape of ``y``.
    """
    K, y = _gram_and_targets(K, y)
    lam = positive_float(reg, "reg", allow_zero=True)
    A = K + lam * jnp.eye(K.shape[0], dtype=K.dtype)
    if lam > 0:
        alpha = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(A, lower=True), y)
    else:
        alpha = jnp.linalg.solve(A, y)
    if is_concrete(alpha) and not bool(jnp.all(jnp.isfinite(alpha))):
        raise ValueError("K + reg * I is not numerically positive definite (the solve gave non-finite "
                         "values); increase reg")
    return alpha


def kernel_ridge_predict(K_cross: jax.Array, alpha: jax.Array) -> jax.Array:
    """``f(x) = sum_i alpha_i k(x^(i), x)`` at ``M`` test points: ``K_cross @ alpha``.

    Args:
      K_cross: ``K_cross[j, i] = k(x_test[j], x_train[i])``, shape ``(M, N)``.
      alpha: from :func:`kernel_ridge_fit`, shape ``(N,)`` or ``(N, k)``.
    """
    alpha = as_array(alpha, "alpha", ndim=(1, 2))
    return _cross(K_cross, alpha.shape[0]) @ alpha


def weighted_sum_predict(K_cross: jax.Array, y: jax.Array) -> jax.Array:
    """The raw weighted sum ``sum_i k(x^(i), x) y^(i)`` (``K_cross @ y``), as the source writes the
    prediction of a kernel method. Shapes as in :func:`kernel_ridge_predict`."""
    y = as_array(y, "y", ndim=(1, 2))
    return _cross(K_cross, y.shape[0]) @ y


def nadaraya_watson(K_cross: jax.Array, y: jax.Array) -> jax.Array:
    """Nadaraya--Watson estimate ``sum_i k(x^(i), x) y^(i) / sum_i k(x^(i), x)``.

    A weighted *average* of the labels; meant for non-negative kernels (e.g. RBF). Each row of
    ``K_cross`` (shape ``(M, N)``) must have a positive sum. Returns shape ``(M,)`` or ``(M, k)``.
    """
    y = as_array(y, "y", ndim=(1, 2))
    Kc = _cross(K_cross, y.shape[0])
    w = jnp.sum(Kc, axis=1)
    if is_concrete(w) and not bool(jnp.all(w > 0)):
        raise ValueError("K_cross must have a positive sum in every row (no weight on any training point)")
    return (Kc @ y) / (w if y.ndim == 1 else w[:, None])


# --------------------------------------------------------------------------- the chapter's data and checks


def random_inputs(key: jax.Array, n: int = 60, d: int = 3) -> jax.Array:
    """``(n, d)`` standard normal inputs."""
    return jax.random.normal(prng_key(key), (n, d))


def example_grams(x: jax.Array) -> dict[str, jax.Array]:
    """The chapter's Gram matrices on ``x`` (shape ``(N, d)``): linear, two polynomial, two RBF; each ``(N, N)``."""
    return {
        "linear": linear(x, x),
        "polynomial p=2, c=1": polynomial(x, x, 2, 1.0),
        "polynomial p=3, c=0.5": polynomial(x, x, 3, 0.5),
        "rbf l=1": rbf(x, x, 1.0),
        "rbf l=0.3": rbf(x, x, 0.3),
    }


# Symmetry: K[i, j] and K[j, i] are the same sum of d products, possibly added in another order
# by the matrix-multiply kernel: a few ulps of max|K|.
_SYM_RTOL = 8 * float(np.finfo(np.float64).eps)


@claim(CHAPTER, "Common kernels are symmetric, K(x, x') = K(x', x)", equation="eq-kernel-psd", source_holds=True,
       where="Basics, kernel & kernel methods")
def check_symmetry():
    x = random_inputs(jax.random.key(30))
    return [check_close(f"{name}: max|K - K^T| / max|K|, 60 points in R^3", K, K.T, atol=_SYM_RTOL, relative=True)
            for name, K in example_grams(x).items()]


def format_eig_ratio(ratio: float, tol: float) -> str:
    """``lambda_min / lambda_max`` as stable text: the value if above ``tol`` in magnitude, else a note."""
    # Ratios at rounding level have CPU- and thread-dependent digits (and sign): do not print them.
    # The ratio's rounding is up to tol = n eps: shown() prints only digits above it.
    return shown(ratio, tol) if abs(ratio) > tol else "0 up to rounding (|ratio| <= n eps)"


@claim(CHAPTER, "Linear, polynomial (c >= 0) and RBF Gram matrices are positive semi-definite",
       equation="eq-kernel-psd")
def check_psd():
    x = random_inputs(jax.random.key(30))
    out = []
    for name, K in example_grams(x).items():
        ratio = min_eig_ratio(K)
        tol = psd_tolerance(K)
        # The check: the negative part of lambda_min / lambda_max is at most n eps.
        out.append(check_close(f"{name}: max(0, -lambda_min/lambda_max) <= n eps (n = 60)", np.array(max(0.0, -ratio)),
                               np.array(0.0), atol=tol, detail=f"lambda_min/lambda_max = {format_eig_ratio(ratio, tol)}"))
    return out


@claim(CHAPTER, "Symmetry alone is not enough: the distance matrix |x - x'| is symmetric but not PSD",
       equation="eq-kernel-psd")
def check_symmetric_not_psd():
    x = random_inputs(jax.random.key(30))
    D = jnp.sqrt(_sqdist(x, x))
    ratio = min_eig_ratio(D)
    # trace(D) = 0 and D != 0, so lambda_min < 0; in fact lambda_min <= -lambda_max / (n - 1).
    return [
        check_close("distance matrix: max|D - D^T|", D, D.T, atol=0.0),
        check_close("distance matrix: is_psd(D) is False (0 = False)", np.array(float(is_psd(D))), np.array(0.0), atol=0,
                    detail=f"lambda_min/lambda_max = {ratio:.3f}"),
        check_close("distance matrix: lambda_min/lambda_max <= -1/(n-1) (trace is 0)",
                    np.array(max(0.0, ratio + 1 / (D.shape[0] - 1))), np.array(0.0), atol=0),
    ]


@claim(CHAPTER, "The polynomial kernel is an inner product of explicit features, K = <phi(x), phi(x')>",
       equation="eq-poly-features", source_holds=True, where="Basics, kernel & kernel methods (feature maps)")
def check_polynomial_features():
    import sympy as sp

    out = []
    for d, p in ((2, 2), (3, 3)):
        xs = sp.symbols(f"x1:{d + 1}", real=True)
        zs = sp.symbols(f"z1:{d + 1}", real=True)
        c = sp.Symbol("c", positive=True)
        alphas, _ = polynomial_multi_indices(d, p, 1.0)

        def phi(v):
            return [sp.sqrt(sp.factorial(p) / sp.prod([sp.factorial(int(k)) for k in a]) * c ** int(a[0]))
                    * sp.prod([vi ** int(ai) for vi, ai in zip(v, a[1:])]) for a in alphas]

        lhs = sum(f * g for f, g in zip(phi(xs), phi(zs)))
        rhs = (sum(xi * zi for xi, zi in zip(xs, zs)) + c) ** p
        out.append(check_symbolic(f"sympy: <phi(x), phi(z)> vs (x.z + c)^{p}, d = {d}, {len(alphas)} features", lhs, rhs))
    x = random_inputs(jax.random.key(31), 40, 3)
    F = polynomial_feature_map(x, 3, 0.5)
    K = polynomial(x, x, 3, 0.5)
    # Rounding: both sides sum O(20) terms of size up to max|K|: a few ulps of max|K| (relative).
    out.append(check_close("float64: phi(x) phi(x')^T vs polynomial(x, x', 3, 0.5), 40 points", F @ F.T, K,
                           atol=1e-13, relative=True))
    return out


RFF_SIZES = np.array([16, 32, 64, 128, 256, 512, 1024, 2048])
RFF_SEEDS = 32


def rff_errors(x: jax.Array, lengthscale: float = 1.0, sizes=RFF_SIZES, seeds: int = RFF_SEEDS) -> tuple[np.ndarray, np.ndarray]:
    """RMS error of the RFF Gram matrix against the RBF one, mean and standard error over
    ``seeds`` keys (``vmap``, key 32), for each number of features ``D`` in ``sizes``.

    Per seed, ``max(sizes)`` features are drawn once and the estimate with ``D`` features uses the
    first ``D`` of them (i.i.d. draws, so any prefix is a valid ``D``-feature estimate); the errors
    at different ``D`` share draws, the seeds are independent. Returns two arrays of shape ``(len(sizes),)``.
    """
    sizes = [int(D) for D in sizes]
    d_max = max(sizes)
    keys = jax.random.split(jax.random.key(32), seeds)

    def per_seed(key, xx):
        F = random_fourier_features(key, xx, d_max, lengthscale) * jnp.sqrt(d_max / 2.0)  # cos(W^T x + b)
        K = rbf(xx, xx, lengthscale)
        return jnp.stack([jnp.sqrt(jnp.mean((2.0 / D * F[:, :D] @ F[:, :D].T - K) ** 2)) for D in sizes])

    # x is passed as an argument so that it is traced too (validation then checks shapes only).
    e = jax.jit(jax.vmap(per_seed, in_axes=(0, None)))(keys, x)  # (seeds, len(sizes))
    return np.asarray(jnp.mean(e, axis=0)), np.asarray(jnp.std(e, axis=0, ddof=1) / np.sqrt(seeds))


@claim(CHAPTER, "Random Fourier features are an unbiased Monte Carlo estimate of the RBF kernel",
       equation="eq-rff")
def check_rff_unbiased():
    x = random_inputs(jax.random.key(33), 6, 3)
    D = 4096
    F = random_fourier_features(jax.random.key(34), x, D, 1.0)
    # Per-feature products z_k(x) z_k(x') = 2 cos(w_k.x + b_k) cos(w_k.x' + b_k); the estimate is their
    # mean, with standard error = sample sd / sqrt(D).
    terms = D * F[:, None, :] * F[None, :, :]  # (N, N, D)
    est = jnp.mean(terms, axis=-1)
    se = jnp.std(terms, axis=-1, ddof=1) / jnp.sqrt(D)
    iu = np.triu_indices(x.shape[0])
    return check_monte_carlo(f"RFF Gram entries (D = {D}, key 34) vs RBF kernel, 21 pairs", est[iu], rbf(x, x, 1.0)[iu],
                             se[iu])


@functools.lru_cache(maxsize=1)
def rff_rate_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sizes, mean error, standard error)`` of :func:`rff_errors` on 20 points in ``R^3``
    (key 33), ``l = 1``: the data of the rate check and of the chapter's figure (cached)."""
    x = random_inputs(jax.random.key(33), 20, 3)
    means, ses = rff_errors(x)
    return RFF_SIZES.copy(), means, ses


@claim(CHAPTER, "The RFF approximation error decays like D^(-1/2)", equation="eq-rff")
def check_rff_rate():
    _, means, _ = rff_rate_data()
    # With 32 seeds the mean error has ~10% relative noise per size (std/mean ~ 0.5 / sqrt(32));
    # over 8 sizes spanning a factor 128 that moves the fitted slope by a few hundredths.
    return check_slope(f"mean RMS |RFF - RBF| vs D, D in [16, 2048], {RFF_SEEDS} seeds (vmap)", RFF_SIZES, means, -0.5,
                       atol=0.05)


class RegressionData(NamedTuple):
    x_train: jax.Array  # (N, 1)
    y_train: jax.Array  # (N,)
    x_test: jax.Array  # (M, 1)
    y_test: jax.Array  # (M,)


def regression_data(n: int = 30, m: int = 200, noise: float = 0.1) -> RegressionData:
    """``y = sin(2x) + 0.5 + noise``, ``x ~ U[-3, 3]`` (key 35); test points on a grid without noise."""
    kx, ke = jax.random.split(jax.random.key(35))
    x = jnp.sort(jax.random.uniform(kx, (n,), minval=-3.0, maxval=3.0))[:, None]
    target = lambda t: jnp.sin(2 * t[:, 0]) + 0.5  # noqa: E731
    xt = jnp.linspace(-3.0, 3.0, m)[:, None]
    return RegressionData(x, target(x) + noise * jax.random.normal(ke, (n,)), xt, target(xt))


REGRESSION_LENGTHSCALE = 0.5


@claim(CHAPTER, "As written, the prediction sum_i K(x_i, x) y_i is a kernel method's prediction",
       equation="eq-weighted-sum", source_holds=False, where="Basics, kernel & kernel methods",
       source_says="the label of a new input x is predicted by the weighted sum sum_i K(x^(i), x) y^(i)",
       truth="kernel predictors have the form sum_i alpha_i K(x^(i), x) with weights alpha solved from the data, "
             "e.g. alpha = (K + lambda I)^{-1} y (kernel ridge regression / GP mean); with alpha = y the sum "
             "changes with the scale of K, does not reproduce constants and does not fit the training data. "
             "The normalised sum_i K(x^(i), x) y^(i) / sum_i K(x^(i), x) (Nadaraya-Watson) is a valid smoother.")
def check_weighted_sum_as_written():
    data = regression_data()
    ell = REGRESSION_LENGTHSCALE
    Kc = rbf(data.x_test, data.x_train, ell)
    K = rbf(data.x_train, data.x_train, ell)
    ones = jnp.ones(data.x_train.shape[0])
    return [
        check_close("weighted sum, labels y = 1: prediction vs 1 on the test grid", weighted_sum_predict(Kc, ones),
                    jnp.ones(data.x_test.shape[0]), atol=0.1, expect=False,
                    detail="tol 0.1: a loose bar, any usable predictor of a constant meets it"),
        check_close("weighted sum with 2K (same similarity, scaled) vs with K", weighted_sum_predict(2 * Kc, data.y_train),
                    weighted_sum_predict(Kc, data.y_train), atol=1e-12, expect=False),
        check_close("weighted sum at the training inputs vs the training labels", weighted_sum_predict(K, data.y_train),
                    data.y_train, atol=0.3, expect=False, detail="tol 0.3 = 3x the label noise sd"),
        check_close("weighted sum on the test grid vs the noise-free target", weighted_sum_predict(Kc, data.y_train),
                    data.y_test, atol=0.3, expect=False, detail="tol 0.3 = 3x the label noise sd"),
    ]


INTERPOLATION_LENGTHSCALE = 0.2


@claim(CHAPTER, "Kernel ridge regression: (K + lambda I) alpha = y; it interpolates the data as lambda -> 0",
       equation="eq-kernel-ridge")
def check_kernel_ridge():
    data = regression_data()
    y = data.y_train
    n = y.shape[0]
    eps = float(np.finfo(np.float64).eps)
    K = rbf(data.x_train, data.x_train, REGRESSION_LENGTHSCALE)
    a_chol = kernel_ridge_fit(K, y, 1e-2)
    A = K + 1e-2 * jnp.eye(n)
    a_lu = jnp.linalg.solve(A, y)
    cond = float(jnp.linalg.cond(A))
    # Interpolation needs lambda << lambda_min(K): with l = 0.2 the smallest eigenvalue is ~1e-5.
    Ki = rbf(data.x_train, data.x_train, INTERPOLATION_LENGTHSCALE)
    mu_min = float(jnp.linalg.eigvalsh(Ki)[0])
    lams = np.logspace(-12, -8, 5)
    alphas = [kernel_ridge_fit(Ki, y, float(lam)) for lam in lams]
    resid = np.array([float(jnp.max(jnp.abs(Ki @ a - y))) for a in alphas])
    # Slope tolerance 0.05: the residual is lambda |(K + lambda I)^-1 y|, linear in lambda up to a relative
    # O(lambda / lambda_min) <= 1e-3, and rounding (~1e-12) is below 1e-3 of the smallest residual (~3e-9).
    return [
        # Both solves are backward stable: relative difference <~ cond * eps.
        check_close("Cholesky alpha vs jnp.linalg.solve alpha, lambda = 1e-2, l = 0.5", a_chol, a_lu,
                    atol=10 * cond * eps, relative=True, detail=f"tol 10 cond eps, cond(K + lambda I) = {cond:.1e}"),
        check_slope(f"training residual max|K alpha - y| vs lambda in [1e-12, 1e-8] << lambda_min(K) = {mu_min:.1e}",
                    lams, resid, 1.0, atol=0.05, y_noise=1e-12, detail="K alpha - y = -lambda alpha ~ -lambda K^-1 y -> 0"),
    ]


@claim(CHAPTER, "Nadaraya-Watson reproduces constants, is scale-invariant and averages the labels",
       equation="eq-nadaraya-watson")
def check_nadaraya_watson():
    data = regression_data()
    Kc = rbf(data.x_test, data.x_train, REGRESSION_LENGTHSCALE)
    ones = jnp.ones(data.x_train.shape[0])
    pred = nadaraya_watson(Kc, data.y_train)
    lo, hi = float(jnp.min(data.y_train)), float(jnp.max(data.y_train))
    outside = jnp.maximum(0.0, jnp.maximum(pred - hi, lo - pred))
    # A weighted average of 30 labels of size <~ 2: rounding ~ N eps max|y| ~ 1e-14; held to 1e-13.
    rounding = 1e-13
    return [
        check_close("NW with labels y = 1 vs 1 on the test grid", nadaraya_watson(Kc, ones), jnp.ones(Kc.shape[0]),
                    atol=rounding),
        check_close("NW with 2K vs NW with K", nadaraya_watson(2 * Kc, data.y_train), pred, atol=rounding),
        check_close("distance of NW predictions outside [min y, max y]", outside, jnp.zeros_like(outside), atol=rounding),
    ]


def compare_predictors(reg: float = 1e-2) -> dict[str, float]:
    """Test RMS error of the three predictors on :func:`regression_data` (RBF, l = 0.5)."""
    data = regression_data()
    ell = REGRESSION_LENGTHSCALE
    K = rbf(data.x_train, data.x_train, ell)
    Kc = rbf(data.x_test, data.x_train, ell)
    preds = {
        "weighted sum (as written)": weighted_sum_predict(Kc, data.y_train),
        "Nadaraya-Watson": nadaraya_watson(Kc, data.y_train),
        f"kernel ridge (lambda = {reg:g})": kernel_ridge_predict(Kc, kernel_ridge_fit(K, data.y_train, reg)),
    }
    return {k: float(jnp.sqrt(jnp.mean((v - data.y_test) ** 2))) for k, v in preds.items()}


@claim(CHAPTER, "On the same data, kernel ridge regression fits the target to within the noise level",
       equation="eq-kernel-ridge")
def check_predictor_comparison():
    errs = compare_predictors()
    ridge = [v for k, v in errs.items() if k.startswith("kernel ridge")][0]
    # A good fit of sin(2x) + 0.5 from 30 noisy samples (noise sd 0.1) has a test RMS error (against
    # the noise-free target) below the noise level.
    return check_close("kernel ridge (lambda = 1e-2) test RMS error minus noise sd 0.1, if positive",
                       np.array(max(0.0, ridge - 0.1)), np.array(0.0), atol=0, detail=f"RMS {ridge:.3f}")
