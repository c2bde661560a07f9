"""Chapter 3 -- the central limit theorem: the sample mean of N i.i.d. draws has mean mu and
variance sigma^2 / N, and its standardized version tends to the standard normal, with a distance
to the normal that falls like N^{-1/2} for skewed draws. The multivariate version has covariance
Sigma / N.

Monte Carlo conventions: a sampler is ``sampler(key, shape) -> draws`` of shape ``shape`` (scalar
draws) or ``shape + (d,)`` (vector draws); replications are ``vmap``-ed (in batches, ``lax.map``)
over split keys; standard errors come from ``n_batches`` independent batches of replications
(batch means), and tolerances are 5 standard errors.

References: :cite:`weng2022ntk` (the text checked), :cite:`billingsley1995probability`
(Lindeberg--Levy CLT, Berry--Esseen), :cite:`vaart1998asymptotic` (Edgeworth expansions).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim
from .validate import as_array, as_callable, is_concrete, positive_float, positive_int, prng_key

CHAPTER = "03-clt"

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "batch_stderr",
    "bernoulli",
    "exponential",
    "ks_to_normal_exact",
    "moments",
    "propagated_slope_stderr",
    "sample_means",
    "standardized_moments",
    "uniform",
]

Sampler = Callable[[jax.Array, tuple[int, ...]], jax.Array]


class Distribution(NamedTuple):
    """A scalar distribution with its sampler and exact moments.

    Attributes: ``name``; ``sampler(key, shape)``; ``mean`` mu; ``var`` sigma^2; ``skew`` the
    skewness gamma = E[(x - mu)^3] / sigma^3; ``exkurt`` the excess kurtosis E[(x - mu)^4] / sigma^4 - 3.
    """

    name: str
    sampler: Sampler
    mean: float
    var: float
    skew: float
    exkurt: float


def exponential(rate: float = 1.0) -> Distribution:
    """Exponential(rate): mu = 1/rate, sigma^2 = 1/rate^2, gamma = 2, excess kurtosis 6."""
    rate = positive_float(rate, "rate")
    return Distribution(f"exponential(rate={rate:g})",
                        lambda key, shape: jax.random.exponential(key, shape, dtype=jnp.float64) / rate,
                        1 / rate, 1 / rate**2, 2.0, 6.0)


def uniform() -> Distribution:
    """Uniform(0, 1): mu = 1/2, sigma^2 = 1/12, gamma = 0, excess kurtosis -6/5."""
    return Distribution("uniform(0, 1)", lambda key, shape: jax.random.uniform(key, shape, dtype=jnp.float64),
                        0.5, 1 / 12, 0.0, -1.2)


def bernoulli(p: float = 0.2) -> Distribution:
    """Bernoulli(p): mu = p, sigma^2 = p q, gamma = (q - p)/sqrt(p q), excess kurtosis (1 - 6pq)/(pq)."""
    p = positive_float(p, "p")
    if not p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    q = 1 - p
    return Distribution(f"bernoulli(p={p:g})",
                        lambda key, shape: jax.random.bernoulli(key, p, shape).astype(jnp.float64),
                        p, p * q, (q - p) / math.sqrt(p * q), (1 - 6 * p * q) / (p * q))


DISTRIBUTIONS = (exponential(), uniform(), bernoulli())


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
        return jnp.stack([x[offsets[i]:offsets[i + 1]].mean(axis=0) for i in range(len(sizes))])

    return jax.lax.map(one, jax.random.split(key, reps), batch_size=batch_size)


def moments(x) -> dict[str, jax.Array]:
    """Mean, variance (1/R), skewness and excess kurtosis of samples along axis 0."""
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
    return {name: batch_stderr(xb, lambda b, name=name: moments(b)[name], n_batches=n_batches)
            for name in ("mean", "var", "skew", "exkurt")}


def propagated_slope_stderr(x, rel_stderr) -> float:
    """Standard error of a log-log OLS slope when ``log y_i`` has independent errors of standard
    deviation ``rel_stderr[i]`` (the relative standard error of ``y_i``):
    ``sqrt(sum_i w_i^2 s_i^2)``, ``w_i = (log x_i - mean) / sum_j (log x_j - mean)^2``."""
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


# --------------------------------------------------------------------------- exact distances


def ks_to_normal_exact(dist: str, N: int, *, p: float = 0.2, grid: int = 20001) -> float:
    """Kolmogorov--Smirnov distance ``sup_z |P(Z_N <= z) - Phi(z)|`` of the standardized mean
    ``Z_N = sqrt(N) (x_bar - mu) / sigma`` from the standard normal, from the exact law of the sum.

    ``dist="exponential"`` (rate 1): the sum is Gamma(N, 1); the sup is taken on ``grid`` points of
    ``z in [-8, 8]`` (the maximum is a smooth interior one, so the grid error is second order).
    ``dist="bernoulli"``: the sum is Binomial(N, p); the sup is attained at an atom ``k``, from the
    left or the right, so it is ``max_k max(|F(k) - Phi(z_k)|, |F(k-1) - Phi(z_k)|)`` exactly.
    """
    from scipy.special import betainc, gammainc, ndtr

    N = positive_int(N, "N")
    if dist == "exponential":
        z = np.linspace(-8.0, 8.0, positive_int(grid, "grid", minimum=3))
        s = N + math.sqrt(N) * z
        F = np.where(s > 0, gammainc(float(N), np.maximum(s, 0.0)), 0.0)
        return float(np.max(np.abs(F - ndtr(z))))
    if dist == "bernoulli":
        p = positive_float(p, "p")
        if not p < 1:
            raise ValueError(f"p must be in (0, 1), got {p}")
        k = np.arange(N + 1, dtype=np.float64)
        # P(S <= k) = I_{1-p}(N - k, k + 1) for k < N, and 1 at k = N
        F = np.where(k < N, betainc(np.maximum(N - k, 1.0), k + 1.0, 1.0 - p), 1.0)
        Fleft = np.concatenate([np.zeros(1), F[:-1]])
        z = (k - N * p) / math.sqrt(N * p * (1 - p))
        Phi = ndtr(z)
        return float(np.max(np.maximum(np.abs(F - Phi), np.abs(Fleft - Phi))))
    raise ValueError(f"dist must be 'exponential' or 'bernoulli', got {dist!r}")


# --------------------------------------------------------------------------- claims

SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
REPS = 30_000


@functools.lru_cache(maxsize=None)
def chapter_sample_means(dist_index: int) -> np.ndarray:
    """The chapter's Monte Carlo draws for ``DISTRIBUTIONS[dist_index]``: ``REPS`` independent sample
    means for each ``N`` in ``SIZES``, shape ``(REPS, len(SIZES))``, key ``100 + dist_index`` (cached:
    the claims and the figures use the same draws)."""
    d = DISTRIBUTIONS[dist_index]
    return np.asarray(sample_means(d.sampler, SIZES, REPS, key=jax.random.key(100 + dist_index)))


@functools.lru_cache(maxsize=None)
def chapter_moments(dist_index: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean, variance, skewness and excess kurtosis of :func:`chapter_sample_means`, per ``N``, each as
    ``(estimate, batch-means standard error)``."""
    xb = jnp.asarray(chapter_sample_means(dist_index))
    out = {name: batch_stderr(xb, lambda b, name=name: moments(b)[name]) for name in ("mean", "var", "skew", "exkurt")}
    return {k: (np.asarray(v[0]), np.asarray(v[1])) for k, v in out.items()}


@claim(CHAPTER, "The sample mean of N i.i.d. draws has mean mu and variance sigma^2/N (the source's n read as N)",
       equation="eq-mean-variance", source_holds=True, where="Basics, central limit theorem")
def check_mean_variance_symbolic():
    import sympy as sp
    from sympy.stats import Bernoulli, E, Exponential, Uniform, variance

    lam, p = sp.Symbol("lambda", positive=True), sp.Symbol("p", positive=True)
    N = 3
    cases = [("Exponential(lambda)", lambda i: Exponential(f"x{i}", lam), 1 / lam, 1 / lam**2),
             ("Bernoulli(p)", lambda i: Bernoulli(f"b{i}", p), p, p * (1 - p)),
             ("Uniform(0, 1)", lambda i: Uniform(f"u{i}", 0, 1), sp.Rational(1, 2), sp.Rational(1, 12))]
    out = []
    for name, make, mu, var in cases:
        xbar = sum(make(i) for i in range(N)) / N
        out.append(check_symbolic(f"sympy.stats: E and Var of the mean of {N} i.i.d. {name} vs (mu, sigma^2/{N})",
                                  sp.Matrix([E(xbar), variance(xbar)]), sp.Matrix([mu, var / N])))
    return out


@claim(CHAPTER, "Monte Carlo: E[x_bar] = mu and Var[x_bar] = sigma^2/N for exponential, uniform and Bernoulli draws",
       equation="eq-mean-variance")
def check_mean_variance_mc():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        mc = chapter_moments(i)
        out.append(check_monte_carlo(f"{d.name}: mean of x_bar_N, N = 1..128 ({REPS} reps)", mc["mean"][0],
                                     np.full(n.shape, d.mean), mc["mean"][1]))
        out.append(check_monte_carlo(f"{d.name}: N Var[x_bar_N] vs sigma^2 = {d.var:.4g}", n * mc["var"][0],
                                     np.full(n.shape, d.var), n * mc["var"][1]))
    return out


@claim(CHAPTER, "Var[x_bar_N] falls like N^{-1}: fitted log-log slope -1", equation="eq-mean-variance")
def check_variance_slope():
    out = []
    for i, d in enumerate(DISTRIBUTIONS):
        est, se = chapter_moments(i)["var"]
        tol = 5 * propagated_slope_stderr(SIZES, se / est)
        out.append(check_slope(f"{d.name}: MC Var[x_bar_N] vs N, N = 1..128", SIZES, est, -1.0, atol=tol,
                               detail="tol = 5 x the slope's stderr propagated from the MC stderrs"))
    return out


@claim(CHAPTER, "The expectation is Gaussian distributed with variance sigma^2/n", equation="eq-clt-source",
       source_holds=False, where="Basics, central limit theorem",
       source_says="the expectation would be Gaussian distributed when N becomes really large: x_bar ~ N(mu, sigma^2/n) when N -> infinity (called 'CTL')",
       truth="the expectation E[x_i] = E[x_bar] = mu is a number; it is the sample mean x_bar, a random variable, that is "
             "approximately N(mu, sigma^2/N) for large N. Precisely (Lindeberg-Levy CLT): sqrt(N)(x_bar - mu)/sigma -> N(0, 1) "
             "in distribution, while x_bar itself converges to the constant mu.")
def check_expectation_as_written():
    # Estimate "the expectation" E[x_bar_N] (N = 64) by averaging R sample means, in B independent
    # batches: the estimates concentrate at mu (spread sigma/sqrt(N R), shrinking with R) instead of
    # spreading like N(mu, sigma^2/N) as the source's sentence says.
    d, N = DISTRIBUTIONS[0], 64
    j = SIZES.index(N)
    xb = sample_means(d.sampler, (N,), REPS, key=jax.random.key(300))[:, 0]
    B = 40
    expectation_estimates = np.asarray(xb).reshape(B, -1).mean(axis=1)
    spread = float(np.std(expectation_estimates, ddof=1))
    source_sd = math.sqrt(d.var / N)
    mc = chapter_moments(0)
    sd_xbar = math.sqrt(mc["var"][0][j])
    sd_xbar_se = mc["var"][1][j] / (2 * sd_xbar)  # delta method
    return [
        check_close(f"spread of the expectation E[x_bar] (estimated {B} times from {REPS // B} means each) vs the source's sigma/sqrt(N), N = {N}",
                    np.array(spread), np.array(source_sd), atol=0.2, relative=True, expect=False,
                    detail=f"spread {spread:.4f} vs {source_sd:.4f}; relative tol 0.2 (the spread of {B} values is known to ~11%)"),
        check_monte_carlo(f"spread of the sample mean x_bar itself vs sigma/sqrt(N) = {source_sd:.4f}, N = {N}",
                          np.array(sd_xbar), np.array(source_sd), np.array(sd_xbar_se)),
    ]


@claim(CHAPTER, "The skewness of x_bar_N is gamma/sqrt(N): the distance to the normal falls like N^{-1/2} for skewed draws",
       equation="eq-skewness")
def check_skewness_decay():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        est, se = chapter_moments(i)["skew"]
        out.append(check_monte_carlo(f"{d.name}: skewness of x_bar_N vs gamma/sqrt(N), gamma = {d.skew:.3g}", est,
                                     d.skew / np.sqrt(n), se))
        if d.skew != 0:
            tol = 5 * propagated_slope_stderr(SIZES, se / np.abs(est))
            out.append(check_slope(f"{d.name}: skewness of x_bar_N vs N, N = 1..128", SIZES, np.abs(est), -0.5, atol=tol,
                                   detail="tol = 5 x the slope's stderr propagated from the MC stderrs"))
    return out


@claim(CHAPTER, "For symmetric draws (uniform) the skewness vanishes and the excess kurtosis kappa/N sets the distance: it falls like N^{-1}",
       equation="eq-skewness")
def check_kurtosis_uniform():
    d = DISTRIBUTIONS[1]
    est, se = chapter_moments(1)["exkurt"]
    n = np.array(SIZES, dtype=float)
    few = slice(0, 5)  # N = 1..16, where kappa/N is large against the MC error
    tol = 5 * propagated_slope_stderr(n[few], se[few] / np.abs(est[few]))
    return [
        check_monte_carlo(f"{d.name}: excess kurtosis of x_bar_N vs -1.2/N, N = 1..128", est, d.exkurt / n, se),
        check_slope(f"{d.name}: |excess kurtosis| of x_bar_N vs N, N = 1..16", n[few], np.abs(est[few]), -1.0, atol=tol,
                    detail="tol = 5 x the slope's stderr propagated from the MC stderrs"),
    ]


KS_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


@claim(CHAPTER, "The Kolmogorov-Smirnov distance of the standardized mean to N(0, 1) falls like N^{-1/2} (exact laws)",
       equation="eq-berry-esseen")
def check_ks_rate():
    ks_exp = np.array([ks_to_normal_exact("exponential", n) for n in KS_SIZES])
    ks_ber = np.array([ks_to_normal_exact("bernoulli", n, p=0.2) for n in KS_SIZES])
    edgeworth = 2.0 / (6 * math.sqrt(2 * math.pi))  # |gamma| phi(0) / 6, gamma = 2
    return [
        check_slope("exponential: exact KS distance vs N, N = 16..4096", KS_SIZES, ks_exp, -0.5, atol=0.02,
                    detail="tol 0.02: the O(1/N) Edgeworth term bends the line at small N"),
        check_close("exponential: sqrt(N) KS at N = 4096 vs the Edgeworth constant |gamma| phi(0)/6 = 0.1330",
                    np.array(math.sqrt(KS_SIZES[-1]) * ks_exp[-1]), np.array(edgeworth), atol=0.02, relative=True,
                    detail="relative tol 0.02: the next Edgeworth term is O(N^{-1/2}) relative, ~1/64"),
        check_slope("bernoulli(p=0.2): exact KS distance vs N, N = 16..4096", KS_SIZES, ks_ber, -0.5, atol=0.05,
                    detail="tol 0.05: the lattice term oscillates with the fractional part of N p"),
    ]


def correlated_sampler(mu, L) -> Sampler:
    """Vector draws ``x = mu + L (e - 1)``, ``e`` i.i.d. Exponential(1) (skewed, non-Gaussian):
    mean ``mu`` and covariance ``Sigma = L L^T``. ``sampler(key, shape)`` has shape ``shape + (d,)``."""
    mu = as_array(mu, "mu", ndim=1)
    L = as_array(L, "L", ndim=2)
    if L.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"L must have shape {(mu.shape[0], mu.shape[0])} to match mu, got {L.shape}")
    return lambda key, shape: mu + (jax.random.exponential(key, shape + (mu.shape[0],), dtype=jnp.float64) - 1.0) @ L.T


MV_MU = (1.0, -2.0, 0.5)
MV_L = ((1.0, 0.0, 0.0), (0.6, 0.8, 0.0), (-0.3, 0.5, 0.7))
MV_SIZES = (1, 8, 64)


@functools.lru_cache(maxsize=None)
def _multivariate_sampler():
    return correlated_sampler(jnp.array(MV_MU), jnp.array(MV_L))


@claim(CHAPTER, "For i.i.d. vectors with covariance Sigma, the sample mean has covariance Sigma/N", equation="eq-multivariate",
       source_holds=True, where="Basics, central limit theorem (multidimensional vectors)")
def check_multivariate_covariance():
    L = np.array(MV_L)
    Sigma = L @ L.T
    xb = sample_means(_multivariate_sampler(), MV_SIZES, REPS, key=jax.random.key(200))  # (R, m, d)
    cov = lambda b: jnp.einsum("rmi,rmj->mij", b - b.mean(0), b - b.mean(0)) / b.shape[0]  # noqa: E731
    est, se = batch_stderr(xb, cov)
    mean, mean_se = batch_stderr(xb, lambda b: b.mean(0))
    n = np.array(MV_SIZES, dtype=float)[:, None, None]
    return [
        check_monte_carlo("mean of x_bar_N (N = 1, 8, 64) vs mu", mean, np.broadcast_to(np.array(MV_MU), mean.shape), mean_se),
        check_monte_carlo("N Cov[x_bar_N] vs Sigma = L L^T, all 3 x 3 entries, N = 1, 8, 64", n * np.asarray(est),
                          np.broadcast_to(Sigma, est.shape), n * np.asarray(se)),
    ]
