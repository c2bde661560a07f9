r"""The central limit theorem, by Monte Carlo: scalar distributions with their exact moments, sample
means of ``N`` i.i.d. draws, their moments, and batch-means standard errors.

The sample mean of ``N`` i.i.d. draws has mean :math:`\mu` and variance :math:`\sigma^2/N`, and its standardized
version tends to the standard normal; the multivariate version has covariance :math:`\Sigma/N`. This
module draws the means and estimates their moments, with standard errors; the chapter's studies
and claims are in ``ntkbook.chapters.c03_clt``.

Monte Carlo conventions: a sampler is ``sampler(key, shape) -> draws`` of shape ``shape`` (scalar
draws) or ``shape + (d,)`` (vector draws); replications are ``vmap``-ed (in batches, ``lax.map``)
over split keys; standard errors come from ``n_batches`` independent batches of replications
(batch means).

References: :cite:`billingsley1995probability` (Lindeberg--Levy CLT).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .validate import as_array, as_callable, is_concrete, positive_float, positive_int, prng_key

__all__ = [
    "Distribution",
    "Sampler",
    "batch_stderr",
    "bernoulli",
    "exponential",
    "moments",
    "propagated_slope_stderr",
    "sample_means",
    "standardized_moments",
    "uniform",
]

Sampler = Callable[[jax.Array, tuple[int, ...]], jax.Array]
"""``sampler(key, shape) -> draws``: draws of shape ``shape`` (scalar) or ``shape + (d,)`` (vectors)."""


class Distribution(NamedTuple):
    r"""A scalar distribution with its sampler and exact moments.

    Attributes: ``name``; ``sampler(key, shape)``; ``mean`` :math:`\mu`; ``var`` :math:`\sigma^2`; ``skew`` the
    skewness :math:`\gamma = \mathbb{E}[(x - \mu)^3]/\sigma^3`; ``exkurt`` the excess kurtosis
    :math:`\mathbb{E}[(x - \mu)^4]/\sigma^4 - 3`.
    """

    name: str
    sampler: Sampler
    mean: float
    var: float
    skew: float
    exkurt: float


def exponential(rate: float = 1.0) -> Distribution:
    r"""Exponential(rate): :math:`\mu = 1/\lambda`, :math:`\sigma^2 = 1/\lambda^2` (:math:`\lambda` the rate), :math:`\gamma = 2`, excess kurtosis 6."""
    rate = positive_float(rate, "rate")
    return Distribution(
        f"exponential(rate={rate:g})",
        lambda key, shape: jax.random.exponential(key, shape, dtype=jnp.float64) / rate,
        1 / rate,
        1 / rate**2,
        2.0,
        6.0,
    )


def uniform() -> Distribution:
    r"""Uniform(0, 1): :math:`\mu = 1/2`, :math:`\sigma^2 = 1/12`, :math:`\gamma = 0`, excess kurtosis :math:`-6/5`."""
    return Distribution(
        "uniform(0, 1)", lambda key, shape: jax.random.uniform(key, shape, dtype=jnp.float64), 0.5, 1 / 12, 0.0, -1.2
    )


def bernoulli(p: float = 0.2) -> Distribution:
    r"""Bernoulli(p): :math:`\mu = p`, :math:`\sigma^2 = pq`, :math:`\gamma = (q - p)/\sqrt{pq}`, excess kurtosis :math:`(1 - 6pq)/(pq)`, :math:`q = 1 - p`."""
    p = positive_float(p, "p")
    if not p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    q = 1 - p
    return Distribution(
        f"bernoulli(p={p:g})",
        lambda key, shape: jax.random.bernoulli(key, p, shape).astype(jnp.float64),
        p,
        p * q,
        (q - p) / math.sqrt(p * q),
        (1 - 6 * p * q) / (p * q),
    )


# --------------------------------------------------------------------------- Monte Carlo


def sample_means(sampler: Sampler, sizes, reps: int, *, key, batch_size: int = 2048) -> jax.Array:
    """Independent sample means ``x_bar_N = (1/N) sum_{i<=N} x_i`` for each ``N`` in ``sizes``.

    One replication draws ``sum(sizes)`` values and splits them into disjoint blocks of the
    given sizes, so the means for different ``N`` are independent. Replications are ``vmap``-ed
    over ``reps`` split keys, ``batch_size`` at a time (``lax.map``), so memory stays bounded.

    Args:
      sampler: ``sampler(key, shape)`` returning draws of shape ``shape`` or ``shape + (d,)``.
      sizes: sample sizes ``N_1, ..., N_m`` (positive integers).
      reps: number of replications ``R``.
      key: a JAX PRNG key.

    Returns:
      shape ``(R, m)`` (scalar draws) or ``(R, m, d)`` (vector draws).
    """
    sampler = as_callable(sampler, "sampler")
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of positive integers, got {type(sizes).__name__}")
    sizes = tuple(positive_int(int(n) if isinstance(n, np.integer) else n, "sizes") for n in sizes)
    if not sizes:
        raise ValueError("sizes must hold at least one sample size")
    reps = positive_int(reps, "reps")
    batch_size = positive_int(batch_size, "batch_size")
    key = prng_key(key)
    out = _sample_means(sampler, sizes, reps, min(batch_size, reps), key)
    if is_concrete(out) and not bool(jnp.all(jnp.isfinite(out))):
        raise ValueError("sampler must return finite draws, got non-finite sample means (nan or inf)")
    return out


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _sample_means(sampler, sizes, reps, batch_size, key):
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    def one(k):
        x = sampler(k, (int(offsets[-1]),))
        return jnp.stack([x[offsets[i] : offsets[i + 1]].mean(axis=0) for i in range(len(sizes))])

    return jax.lax.map(one, jax.random.split(key, reps), batch_size=batch_size)


def moments(x) -> dict[str, jax.Array]:
    """Mean, variance (1/R), skewness and excess kurtosis of samples along axis 0.

    ``x`` has shape ``(R, ...)`` with ``R >= 2`` samples, not constant along axis 0; returns a dict
    ``"mean", "var", "skew", "exkurt" -> array of shape x.shape[1:]``.
    """
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 samples along axis 0, got shape {x.shape}")
    m = x.mean(axis=0)
    c = x - m
    v = (c**2).mean(axis=0)
    if is_concrete(v) and not bool(jnp.all(v > 0)):
        raise ValueError("x must not be constant along axis 0 (zero variance: skewness and kurtosis are undefined)")
    return {"mean": m, "var": v, "skew": (c**3).mean(axis=0) / v**1.5, "exkurt": (c**4).mean(axis=0) / v**2 - 3.0}


def batch_stderr(x, stat: Callable[[jax.Array], jax.Array], *, n_batches: int = 40) -> tuple[jax.Array, jax.Array]:
    """A statistic of samples ``x`` (axis 0 = replications) and its batch-means standard error.

    Returns ``(stat(x), std_b(stat(batch_b)) / sqrt(B))``: the statistic on all ``R`` samples and
    the spread of the statistic over ``B = n_batches`` disjoint batches, divided by ``sqrt(B)``.
    ``x`` has shape ``(R, ...)`` with ``R >= 2 B``; ``stat`` maps an array of shape ``(r, ...)`` to
    any shape ``S`` (``vmap``-able); both returned arrays have shape ``S``.
    """
    x = as_array(x, "x")
    stat = as_callable(stat, "stat")
    n_batches = positive_int(n_batches, "n_batches", minimum=2)
    if x.shape[0] < 2 * n_batches:
        raise ValueError(f"x must have at least 2 * n_batches = {2 * n_batches} rows, got {x.shape[0]}")
    R = (x.shape[0] // n_batches) * n_batches
    batches = x[:R].reshape((n_batches, R // n_batches) + x.shape[1:])
    per = jax.vmap(stat)(batches)
    return stat(x), per.std(axis=0, ddof=1) / math.sqrt(n_batches)


def standardized_moments(dist: Distribution, sizes, reps: int, *, key, n_batches: int = 40):
    """Monte Carlo mean, variance, skewness and excess kurtosis of ``x_bar_N`` for each ``N``,
    each with its batch-means standard error: a dict ``name -> (estimate (m,), stderr (m,))``."""
    if not isinstance(dist, Distribution):
        raise TypeError(f"dist must be a Distribution, got {type(dist).__name__}")
    xb = sample_means(dist.sampler, sizes, reps, key=key)
    return {
        name: batch_stderr(xb, lambda b, name=name: moments(b)[name], n_batches=n_batches)
        for name in ("mean", "var", "skew", "exkurt")
    }


def propagated_slope_stderr(x, rel_stderr) -> float:
    """Standard error of a log-log OLS slope when ``log y_i`` has independent errors of standard
    deviation ``rel_stderr[i]`` (the relative standard error of ``y_i``):
    ``sqrt(sum_i w_i^2 s_i^2)``, ``w_i = (log x_i - mean) / sum_j (log x_j - mean)^2``.

    ``x``: shape ``(n,)``, positive, at least two distinct; ``rel_stderr``: shape ``(n,)``, ``>= 0``.
    """
    xv = np.asarray(as_array(x, "x", ndim=1))
    if not np.all(xv > 0) or np.unique(xv).size < 2:
        raise ValueError(f"x must hold positive values, at least two distinct (a log-log fit), got {xv}")
    lx = np.log(xv)
    s = np.asarray(as_array(rel_stderr, "rel_stderr", ndim=1))
    if s.shape != lx.shape:
        raise ValueError(f"rel_stderr must have the shape of x {lx.shape}, got {s.shape}")
    if np.any(s < 0):
        raise ValueError("rel_stderr must be >= 0")
    w = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    return float(np.sqrt(np.sum(w**2 * s**2)))
