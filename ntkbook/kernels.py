"""Kernels and kernel methods: common kernels as Gram-matrix functions, symmetry and positive
semi-definiteness, feature maps (explicit for the polynomial kernel, random Fourier features for
the RBF kernel), and three ways to predict with a kernel: the raw weighted sum of labels, kernel
ridge regression and the Nadaraya--Watson weighted average.

Shapes: inputs are ``(N, d)`` arrays of ``N`` points in ``R^d``; a kernel function returns the
``(N1, N2)`` matrix ``K[i, j] = k(x1[i], x2[j])``. Predictors take Gram matrices, so that any
kernel (the Gaussian-process and NTK kernels included) can be used with them.

The chapter that narrates these (data, studies, claims) is ``ntkbook.chapters.c05_kernels``.

References: Schoelkopf & Smola, *Learning with Kernels* (2002); Rasmussen & Williams, *Gaussian
Processes for Machine Learning* (2006), ch. 2 and 4; Rahimi & Recht (2007); Nadaraya (1964);
Watson (1964); Weng (2022), "Kernel & kernel methods".
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .validate import as_array, is_concrete, positive_float, positive_int, prng_key

__all__ = [
    "is_psd",
    "kernel_ridge_fit",
    "kernel_ridge_predict",
    "linear",
    "min_eig_ratio",
    "nadaraya_watson",
    "polynomial",
    "polynomial_feature_map",
    "polynomial_multi_indices",
    "psd_tolerance",
    "random_fourier_features",
    "rbf",
    "squared_distances",
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


def squared_distances(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """Squared Euclidean distances ``D2[i, j] = |x1[i] - x2[j]|^2``.

    Computed from the differences, not as ``|x|^2 + |x'|^2 - 2 x.x'``: never negative, and exactly
    symmetric when ``x1 = x2``.

    Args:
      x1: shape ``(N1, d)``; x2: shape ``(N2, d)``.

    Returns:
      shape ``(N1, N2)``.
    """
    x1, x2 = _pair(x1, x2)
    return _sqdist(x1, x2)


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
        raise ValueError(
            "K + reg * I is not numerically positive definite (the solve gave non-finite values); increase reg"
        )
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
