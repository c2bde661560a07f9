"""Test oracles for the infinite-width kernels: the closed forms and the recursion written straight from
the formulas, independently of the library's fused code (``ntkbook._fast``, where the library has its
only copy of the closed forms).

* :func:`numpy_kernels` -- the recursion in numpy, ``np.arccos`` / ``np.arcsin`` of a clipped correlation,
  every layer a separate pass: the reference for values off the diagonal;
* :func:`relu_map`, :func:`erf_map`, :func:`identity_map` and :func:`jax_kernels` -- the straightforward
  JAX maps the library had before its closed forms were written once (ReLU by ``arctan2``, erf by a
  division and ``jnp.arcsin``, the correlation snapped to ``±1`` within ``SNAP_ULPS`` rounding units,
  the diagonal read off the Gram matrix for ``x2 = None``): the reference for the diagonal and for
  gradients, which numpy cannot give and which the snap keeps finite.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

SNAP_ULPS = 32  # the library's snap (ntkbook._fast.SNAP_ULPS), restated: the oracle does not import it


def numpy_kernels(x1, x2, depth, beta, activation):
    """``(Σ^(depth), K^(depth))`` in numpy for ``x1 (N1, n_0)``, ``x2 (N2, n_0)``: relu, erf or identity."""
    n0 = x1.shape[1]
    cov = x1 @ x2.T / n0 + beta**2
    v1 = np.sum(x1**2, 1) / n0 + beta**2
    v2 = np.sum(x2**2, 1) / n0 + beta**2
    k = cov.copy()
    for _ in range(depth - 1):
        if activation == "relu":
            s = np.sqrt(np.outer(v1, v2))
            th = np.arccos(np.clip(cov / s, -1, 1))
            cov = s * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi) + beta**2
            dot = (np.pi - th) / (2 * np.pi)
            v1, v2 = v1 / 2 + beta**2, v2 / 2 + beta**2
        elif activation == "erf":
            prod = np.outer(1 + 2 * v1, 1 + 2 * v2)
            dot = (4 / np.pi) / np.sqrt(prod - 4 * cov**2)
            cov = (2 / np.pi) * np.arcsin(2 * cov / np.sqrt(prod)) + beta**2
            v1 = (2 / np.pi) * np.arcsin(2 * v1 / (1 + 2 * v1)) + beta**2
            v2 = (2 / np.pi) * np.arcsin(2 * v2 / (1 + 2 * v2)) + beta**2
        else:  # identity
            cov, dot = cov + beta**2, 1.0
            v1, v2 = v1 + beta**2, v2 + beta**2
        k = cov + k * dot
    return cov, k


def _safe_sqrt(x, ok):
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


def _correlation(cov, v1, v2):
    """``cov / sqrt(v1 v2)`` snapped to ``±1`` within ``SNAP_ULPS`` eps, 0 where a variance is 0."""
    r1 = jnp.where(v1 > 0, 1 / _safe_sqrt(v1, v1 > 0), 0.0)
    r2 = jnp.where(v2 > 0, 1 / _safe_sqrt(v2, v2 > 0), 0.0)
    c = cov * r1[:, None] * r2[None, :]
    snapped = jnp.abs(c) >= 1 - SNAP_ULPS * jnp.finfo(c.dtype).eps
    return jnp.where(snapped, jnp.where(c > 0, 1.0, -1.0).astype(c.dtype), c), snapped


def identity_map(cov, v1, v2):
    """``(E[uv], E[1·1], E[u²], E[v²])``: ``cov (N1, N2)``, ``v1 (N1,)``, ``v2 (N2,)``."""
    return cov, jnp.ones_like(cov), v1, v2


def relu_map(cov, v1, v2):
    """The arc-cosine kernels of degree 1 and 0 with ``θ = arctan2(sin θ, c)``."""
    c, snapped = _correlation(cov, v1, v2)
    scale = _safe_sqrt(v1, v1 > 0)[:, None] * _safe_sqrt(v2, v2 > 0)[None, :]
    sin_theta = _safe_sqrt((1 - c) * (1 + c), ~snapped)
    theta = jnp.arctan2(sin_theta, c)
    sigma = (scale * sin_theta + (jnp.pi - theta) * cov) / (2 * jnp.pi)
    return sigma, (jnp.pi - theta) / (2 * jnp.pi), v1 / 2, v2 / 2


def erf_map(cov, v1, v2):
    """Williams' erf kernel, ``det(I + 2Λ)/(a1 a2)`` written without cancellation."""
    a1, a2 = 1 + 2 * v1, 1 + 2 * v2
    r = jnp.sqrt(a1)[:, None] * jnp.sqrt(a2)[None, :]
    sigma = (2 / jnp.pi) * jnp.arcsin(jnp.clip(2 * cov / r, -1.0, 1.0))
    c, _ = _correlation(cov, v1, v2)
    i1, i2 = (1 / a1)[:, None], (1 / a2)[None, :]
    h1, h2 = (v1 / a1)[:, None], (v2 / a2)[None, :]
    q = i1 + (1 - i1) * i2 + 4 * (h1 * (1 - c)) * ((1 + c) * h2)
    var1 = (2 / jnp.pi) * jnp.arcsin(2 * v1 / a1)
    var2 = (2 / jnp.pi) * jnp.arcsin(2 * v2 / a2)
    return sigma, (4 / jnp.pi) / (r * jnp.sqrt(q)), var1, var2


MAPS = {"identity": identity_map, "relu": relu_map, "erf": erf_map}


@functools.partial(jax.jit, static_argnames=("depth", "activation"))
def jax_kernels(x1, x2, beta, *, depth, activation):
    """``(Σ^(depth), K^(depth))`` by :data:`MAPS`, one layer after the other; ``x2 = None`` reads the
    diagonal off the Gram matrix (so the correlation is 1 there bit for bit)."""
    n0 = x1.shape[1]
    b2 = jnp.asarray(beta, x1.dtype) ** 2
    if x2 is None:
        cov = x1 @ x1.T / n0 + b2
        v1 = v2 = jnp.diagonal(cov)
    else:
        cov = x1 @ x2.T / n0 + b2
        v1, v2 = jnp.sum(x1 * x1, 1) / n0 + b2, jnp.sum(x2 * x2, 1) / n0 + b2
    k = cov
    for _ in range(depth - 1):
        sigma, sigma_dot, w1, w2 = MAPS[activation](cov, v1, v2)
        cov = sigma + b2
        k = cov + k * sigma_dot
        v1, v2 = w1 + b2, w2 + b2
    return cov, k


def scaled_error(got, ref, d1, d2):
    """``max |got - ref| / sqrt(d1 d2)``: the error relative to each entry's Cauchy-Schwarz scale (for
    positive kernels such as ReLU's within a factor ~2 of the plain relative error)."""
    return float(np.max(np.abs(np.asarray(got) - np.asarray(ref)) / np.sqrt(np.outer(d1, d2))))
