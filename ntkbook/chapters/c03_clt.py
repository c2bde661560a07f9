"""Chapter 3 -- the central limit theorem: the sample mean of N i.i.d. draws has mean mu and
variance sigma^2 / N, and its standardized version tends to the standard normal, with a distance
to the normal that falls like N^{-1/2} for skewed draws. The multivariate version has covariance
Sigma / N.

The chapter's three distributions, its seeded Monte Carlo draws (cached: the claims and the
figures share them), the exact Kolmogorov--Smirnov distances and the claims; the sampling and
the estimators are the library's (:mod:`ntkbook.clt`). Tolerances are 5 standard errors.

References: :cite:`weng2022ntk` (the text checked), :cite:`billingsley1995probability`
(Lindeberg--Levy CLT, Berry--Esseen), :cite:`vaart1998asymptotic` (Edgeworth expansions).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import clt
from ..claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim
from ..validate import as_array, positive_float, positive_int

CHAPTER = "03-clt"

__all__ = [
    "CHAPTER",
    "DISTRIBUTIONS",
    "KS_SIZES",
    "MV_L",
    "MV_MU",
    "MV_SIZES",
    "REPS",
    "SIZES",
    "chapter_moments",
    "chapter_sample_means",
    "check_expectation_as_written",
    "check_ks_rate",
    "check_kurtosis_uniform",
    "check_mean_variance_mc",
    "check_mean_variance_as_written",
    "check_mean_variance_symbolic",
    "check_multivariate_covariance",
    "check_skewness_decay",
    "check_variance_slope",
    "correlated_sampler",
    "ks_to_normal_exact",
]

# The chapter's three distributions: skewed (exponential), symmetric (uniform), discrete (Bernoulli).
DISTRIBUTIONS = (clt.exponential(), clt.uniform(), clt.bernoulli())


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


@functools.cache
def chapter_sample_means(dist_index: int) -> np.ndarray:
    """The chapter's Monte Carlo draws for ``DISTRIBUTIONS[dist_index]``: ``REPS`` independent sample
    means for each ``N`` in ``SIZES``, shape ``(REPS, len(SIZES))``, key ``100 + dist_index`` (cached:
    the claims and the figures use the same draws)."""
    d = DISTRIBUTIONS[dist_index]
    return np.asarray(clt.sample_means(d.sampler, SIZES, REPS, key=jax.random.key(100 + dist_index)))


@functools.cache
def chapter_moments(dist_index: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean, variance, skewness and excess kurtosis of :func:`chapter_sample_means`, per ``N``, each as
    ``(estimate, batch-means standard error)``."""
    xb = jnp.asarray(chapter_sample_means(dist_index))
    out = {
        name: clt.batch_stderr(xb, lambda b, name=name: clt.moments(b)[name])
        for name in ("mean", "var", "skew", "exkurt")
    }
    return {k: (np.asarray(v[0]), np.asarray(v[1])) for k, v in out.items()}


def _symbolic_means(N: int = 3):
    """``(name, x_bar, mu, sigma^2)`` for the mean of ``N`` i.i.d. draws of three sympy.stats laws."""
    import sympy as sp
    from sympy.stats import Bernoulli, Exponential, Uniform

    lam, p = sp.Symbol("lambda", positive=True), sp.Symbol("p", positive=True)
    cases = [
        ("Exponential(lambda)", lambda i: Exponential(f"x{i}", lam), 1 / lam, 1 / lam**2),
        ("Bernoulli(p)", lambda i: Bernoulli(f"b{i}", p), p, p * (1 - p)),
        ("Uniform(0, 1)", lambda i: Uniform(f"u{i}", 0, 1), sp.Rational(1, 2), sp.Rational(1, 12)),
    ]
    return [(name, sum(make(i) for i in range(N)) / N, mu, var) for name, make, mu, var in cases]


@claim(
    CHAPTER,
    "As written, x_bar ~ N(mu, sigma^2/n): the variance has n, a symbol the section never defines, not N",
    equation="eq-clt-source",
    source_holds=False,
    where="Basics, central limit theorem (the displayed formula; source line 67)",
    source_says="x_bar = (1/N) sum_{i=1}^N x_i ~ N(mu, sigma^2/n) when N -> infinity",
    truth="the mean of N i.i.d. draws has mean mu and variance sigma^2/N (capital N, the number of draws), at every N",
)
def check_mean_variance_as_written():
    import sympy as sp
    from sympy.stats import E, variance

    n = sp.Symbol("n", positive=True, integer=True)
    name, xbar, mu, var = _symbolic_means()[0]
    return [
        check_symbolic(f"sympy.stats: E of the mean of 3 i.i.d. {name} vs the source's mu (holds)", E(xbar), mu),
        check_symbolic(
            f"sympy.stats: Var of the mean of 3 i.i.d. {name} vs the source's sigma^2/n, n a free symbol",
            variance(xbar),
            var / n,
            expect=False,
        ),
    ]


@claim(
    CHAPTER,
    "The sample mean of N i.i.d. draws has mean mu and variance sigma^2/N (corrected: the source writes sigma^2/n)",
    equation="eq-mean-variance",
)
def check_mean_variance_symbolic():
    import sympy as sp
    from sympy.stats import E, variance

    N = 3
    return [
        check_symbolic(
            f"sympy.stats: E and Var of the mean of {N} i.i.d. {name} vs (mu, sigma^2/{N})",
            sp.Matrix([E(xbar), variance(xbar)]),
            sp.Matrix([mu, var / N]),
        )
        for name, xbar, mu, var in _symbolic_means(N)
    ]


@claim(
    CHAPTER,
    "Monte Carlo: E[x_bar] = mu and Var[x_bar] = sigma^2/N for exponential, uniform and Bernoulli draws",
    equation="eq-mean-variance",
)
def check_mean_variance_mc():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        mc = chapter_moments(i)
        out.append(
            check_monte_carlo(
                f"{d.name}: mean of x_bar_N, N = 1..128 ({REPS} reps)",
                mc["mean"][0],
                np.full(n.shape, d.mean),
                mc["mean"][1],
            )
        )
        out.append(
            check_monte_carlo(
                f"{d.name}: N Var[x_bar_N] vs sigma^2 = {d.var:.4g}",
                n * mc["var"][0],
                np.full(n.shape, d.var),
                n * mc["var"][1],
            )
        )
    return out


@claim(CHAPTER, "Var[x_bar_N] falls like N^{-1}: fitted log-log slope -1", equation="eq-mean-variance")
def check_variance_slope():
    out = []
    for i, d in enumerate(DISTRIBUTIONS):
        est, se = chapter_moments(i)["var"]
        tol = 5 * clt.propagated_slope_stderr(SIZES, se / est)
        out.append(
            check_slope(
                f"{d.name}: MC Var[x_bar_N] vs N, N = 1..128",
                SIZES,
                est,
                -1.0,
                atol=tol,
                detail="tol = 5 x the slope's stderr propagated from the MC stderrs",
            )
        )
    return out


@claim(
    CHAPTER,
    "As written, 'the expectation would be Gaussian distributed when N becomes really large'",
    equation="eq-clt-source",
    source_holds=False,
    where="Basics, central limit theorem (the sentence before the formula; source line 65)",
    source_says="the Central Limit Theorem (CTL) states that the expectation would be Gaussian distributed when N becomes really large",
    truth="the expectation E[x_i] = E[x_bar] = mu is a number; it is the sample mean x_bar, a random variable, that is "
    "approximately N(mu, sigma^2/N) for large N. Precisely (Lindeberg-Levy CLT): sqrt(N)(x_bar - mu)/sigma -> N(0, 1) "
    "in distribution, while x_bar itself converges to the constant mu (so 'x_bar ~ N(mu, sigma^2/N) when N -> infinity' "
    "is no limit statement: its right-hand side moves with N).",
)
def check_expectation_as_written():
    # "The expectation" E[x_bar] = mu is a number: it has no distribution to be Gaussian, its variance is
    # 0 at every N. The sample mean x_bar itself (which the formula writes) has variance sigma^2/N.
    from sympy.stats import E, variance

    name, xbar, _, var = _symbolic_means()[0]
    d, N = DISTRIBUTIONS[0], 64
    j = SIZES.index(N)
    source_sd = math.sqrt(d.var / N)
    mc = chapter_moments(0)
    sd_xbar = math.sqrt(mc["var"][0][j])
    sd_xbar_se = mc["var"][1][j] / (2 * sd_xbar)  # delta method
    return [
        check_symbolic(
            f"sympy.stats: Var of the expectation E[x_bar] (3 i.i.d. {name}; E[x_bar] = mu, a number) vs sigma^2/3",
            variance(E(xbar)),
            var / 3,
            expect=False,
        ),
        check_monte_carlo(
            f"spread of the sample mean x_bar itself vs sigma/sqrt(N) = {source_sd:.4f}, N = {N} ({REPS} reps)",
            np.array(sd_xbar),
            np.array(source_sd),
            np.array(sd_xbar_se),
        ),
    ]


@claim(
    CHAPTER,
    "The skewness of x_bar_N is gamma/sqrt(N): the distance to the normal falls like N^{-1/2} for skewed draws",
    equation="eq-skewness",
)
def check_skewness_decay():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        est, se = chapter_moments(i)["skew"]
        out.append(
            check_monte_carlo(
                f"{d.name}: skewness of x_bar_N vs gamma/sqrt(N), gamma = {d.skew:.3g}", est, d.skew / np.sqrt(n), se
            )
        )
        if d.skew != 0:
            tol = 5 * clt.propagated_slope_stderr(SIZES, se / np.abs(est))
            out.append(
                check_slope(
                    f"{d.name}: skewness of x_bar_N vs N, N = 1..128",
                    SIZES,
                    np.abs(est),
                    -0.5,
                    atol=tol,
                    detail="tol = 5 x the slope's stderr propagated from the MC stderrs",
                )
            )
    return out


@claim(
    CHAPTER,
    "For symmetric draws (uniform) the skewness vanishes and the excess kurtosis kappa/N sets the distance: it falls like N^{-1}",
    equation="eq-skewness",
)
def check_kurtosis_uniform():
    d = DISTRIBUTIONS[1]
    est, se = chapter_moments(1)["exkurt"]
    n = np.array(SIZES, dtype=float)
    few = slice(0, 5)  # N = 1..16, where kappa/N is large against the MC error
    tol = 5 * clt.propagated_slope_stderr(n[few], se[few] / np.abs(est[few]))
    return [
        check_monte_carlo(f"{d.name}: excess kurtosis of x_bar_N vs -1.2/N, N = 1..128", est, d.exkurt / n, se),
        check_slope(
            f"{d.name}: |excess kurtosis| of x_bar_N vs N, N = 1..16",
            n[few],
            np.abs(est[few]),
            -1.0,
            atol=tol,
            detail="tol = 5 x the slope's stderr propagated from the MC stderrs",
        ),
    ]


KS_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


@claim(
    CHAPTER,
    "The Kolmogorov-Smirnov distance of the standardized mean to N(0, 1) falls like N^{-1/2} (exact laws)",
    equation="eq-berry-esseen",
)
def check_ks_rate():
    ks_exp = np.array([ks_to_normal_exact("exponential", n) for n in KS_SIZES])
    ks_ber = np.array([ks_to_normal_exact("bernoulli", n, p=0.2) for n in KS_SIZES])
    edgeworth = 2.0 / (6 * math.sqrt(2 * math.pi))  # |gamma| phi(0) / 6, gamma = 2
    return [
        check_slope(
            "exponential: exact KS distance vs N, N = 16..4096",
            KS_SIZES,
            ks_exp,
            -0.5,
            atol=0.02,
            detail="tol 0.02: the O(1/N) Edgeworth term bends the line at small N",
        ),
        check_close(
            "exponential: sqrt(N) KS at N = 4096 vs the Edgeworth constant |gamma| phi(0)/6 = 0.1330",
            np.array(math.sqrt(KS_SIZES[-1]) * ks_exp[-1]),
            np.array(edgeworth),
            atol=0.02,
            relative=True,
            detail="relative tol 0.02: the next Edgeworth term is O(N^{-1/2}) relative, ~1/64",
        ),
        check_slope(
            "bernoulli(p=0.2): exact KS distance vs N, N = 16..4096",
            KS_SIZES,
            ks_ber,
            -0.5,
            atol=0.05,
            detail="tol 0.05: the lattice term oscillates with the fractional part of N p",
        ),
    ]


def correlated_sampler(mu, L) -> clt.Sampler:
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


@functools.cache
def _multivariate_sampler():
    return correlated_sampler(jnp.array(MV_MU), jnp.array(MV_L))


@claim(
    CHAPTER,
    "For i.i.d. vectors with covariance Sigma, the sample mean has covariance Sigma/N",
    equation="eq-multivariate",
    source_holds=True,
    where="Basics, central limit theorem (multidimensional vectors)",
)
def check_multivariate_covariance():
    L = np.array(MV_L)
    Sigma = L @ L.T
    xb = clt.sample_means(_multivariate_sampler(), MV_SIZES, REPS, key=jax.random.key(200))  # (R, m, d)
    cov = lambda b: jnp.einsum("rmi,rmj->mij", b - b.mean(0), b - b.mean(0)) / b.shape[0]  # noqa: E731
    est, se = clt.batch_stderr(xb, cov)
    mean, mean_se = clt.batch_stderr(xb, lambda b: b.mean(0))
    n = np.array(MV_SIZES, dtype=float)[:, None, None]
    return [
        check_monte_carlo(
            "mean of x_bar_N (N = 1, 8, 64) vs mu", mean, np.broadcast_to(np.array(MV_MU), mean.shape), mean_se
        ),
        check_monte_carlo(
            "N Cov[x_bar_N] vs Sigma = L L^T, all 3 x 3 entries, N = 1, 8, 64",
            n * np.asarray(est),
            np.broadcast_to(Sigma, est.shape),
            n * np.asarray(se),
        ),
    ]
