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
from ..claims import check_close, check_monte_carlo, check_symbolic, claim, rate_checks
from ..validate import as_array, positive_float, positive_int

CHAPTER = "03-clt"

__all__ = [
    "CHAPTER",
    "DISTRIBUTIONS",
    "ESSEEN_SIZES",
    "KS_GRID",
    "KS_SIZES",
    "KURTOSIS_REPS",
    "KURTOSIS_SIZES",
    "MV_L",
    "MV_MU",
    "MV_REPS",
    "MV_SIZES",
    "RATE_BATCHES",
    "REPS",
    "SIZES",
    "batch_moments",
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
    "kurtosis_batches",
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
REPS = 100_000
# The rates are checked by the book's one criterion (rate_checks): the chapter's replications split into
# RATE_BATCHES disjoint batches, the statistic computed on each batch, so that at every N the batches are
# independent draws of it (and draws at different N are independent too: disjoint blocks of each replication).
# The exponent is fitted to the batches' mean; its standard error follows from their spread (delta method). Ten
# batches of 10 000 keep every batch's statistic positive (a log-log fit) with a relative error of a few per cent
# at the largest N. Variance, skewness and excess kurtosis of the mean are exact power laws in N (cumulants of a
# sum add), so there is no next-order term: the tolerance is 5 standard errors. The batch estimators' bias,
# O(1/10 000) relative, is far below them.
RATE_BATCHES = 10
# The excess kurtosis of the uniform's mean, -1.2/N, is small against the Monte Carlo error of the chapter's draws
# beyond N = 4; its rate is fitted on a study of its own (key 103): 10^6 replications at N = 1..16, where each of the
# ten batches' kurtosis has a relative error of at most ~1/3 and their mean one of ~7%.
KURTOSIS_SIZES = (1, 2, 4, 8, 16)
KURTOSIS_REPS = 1_000_000


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


@functools.cache
def _batch_moments(dist_index: int) -> dict[str, np.ndarray]:
    xb = jnp.asarray(chapter_sample_means(dist_index))
    batches = xb.reshape((RATE_BATCHES, -1, len(SIZES)))
    return {k: np.asarray(v).T for k, v in jax.vmap(clt.moments)(batches).items()}


def batch_moments(dist_index: int) -> dict[str, np.ndarray]:
    """Mean, variance, skewness and excess kurtosis of :func:`chapter_sample_means` on each of ``RATE_BATCHES``
    disjoint batches of its replications: ``name -> (len(SIZES), RATE_BATCHES)``, independent draws of each
    statistic at every ``N`` (the samples :func:`ntkbook.claims.rate_checks` fits a rate to)."""
    return {k: v.copy() for k, v in _batch_moments(dist_index).items()}


@functools.cache
def _kurtosis_batches() -> np.ndarray:
    d = DISTRIBUTIONS[1]
    xb = clt.sample_means(d.sampler, KURTOSIS_SIZES, KURTOSIS_REPS, key=jax.random.key(103))
    batches = xb.reshape((RATE_BATCHES, -1, len(KURTOSIS_SIZES)))
    return np.asarray(jax.vmap(lambda b: clt.moments(b)["exkurt"])(batches)).T


def kurtosis_batches() -> np.ndarray:
    """Excess kurtosis of the mean of ``N`` uniform draws, ``N`` in ``KURTOSIS_SIZES``, on each of ``RATE_BATCHES``
    disjoint batches of ``KURTOSIS_REPS`` replications (key 103): shape ``(len(KURTOSIS_SIZES), RATE_BATCHES)``."""
    return _kurtosis_batches().copy()


def _symbolic_means(N: int = 3):
    """``(name, x_bar, mu, sigma^2)`` for the mean of ``N`` i.i.d. draws of three sympy.stats laws."""
    import sympy as sp
    from sympy.stats import Bernoulli, Exponential, Uniform

    lam, p = sp.Symbol("lambda", positive=True), sp.Symbol("p", positive=True)
    cases = [
        ("Exponential($\\lambda$)", lambda i: Exponential(f"x{i}", lam), 1 / lam, 1 / lam**2),
        ("Bernoulli($p$)", lambda i: Bernoulli(f"b{i}", p), p, p * (1 - p)),
        ("Uniform(0, 1)", lambda i: Uniform(f"u{i}", 0, 1), sp.Rational(1, 2), sp.Rational(1, 12)),
    ]
    return [(name, sum(make(i) for i in range(N)) / N, mu, var) for name, make, mu, var in cases]


@claim(
    CHAPTER,
    "As written, $\\bar x \\sim \\mathcal{N}(\\mu, \\sigma^2/n)$: the variance has $n$, a symbol the section never "
    "defines, not $N$",
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
        check_symbolic(
            f"sympy.stats: $\\mathbb{{E}}$ of the mean of 3 i.i.d. {name} vs the source's $\\mu$ (holds)", E(xbar), mu
        ),
        check_symbolic(
            f"sympy.stats: $\\operatorname{{Var}}$ of the mean of 3 i.i.d. {name} vs the source's $\\sigma^2/n$, "
            "$n$ a free symbol",
            variance(xbar),
            var / n,
            expect=False,
        ),
    ]


@claim(
    CHAPTER,
    "The sample mean of $N$ i.i.d. draws has mean $\\mu$ and variance $\\sigma^2/N$ (corrected: the source writes "
    "$\\sigma^2/n$)",
    equation="eq-mean-variance",
)
def check_mean_variance_symbolic():
    import sympy as sp
    from sympy.stats import E, variance

    N = 3
    return [
        check_symbolic(
            f"sympy.stats: $\\mathbb{{E}}$ and $\\operatorname{{Var}}$ of the mean of {N} i.i.d. {name} vs "
            f"$(\\mu, \\sigma^2/{N})$",
            sp.Matrix([E(xbar), variance(xbar)]),
            sp.Matrix([mu, var / N]),
        )
        for name, xbar, mu, var in _symbolic_means(N)
    ]


@claim(
    CHAPTER,
    "Monte Carlo: $\\mathbb{E}[\\bar x] = \\mu$ and $\\operatorname{Var}[\\bar x] = \\sigma^2/N$ for exponential, "
    "uniform and Bernoulli draws",
    equation="eq-mean-variance",
)
def check_mean_variance_mc():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        mc = chapter_moments(i)
        out.append(
            check_monte_carlo(
                f"{d.name}: mean of $\\bar x_N$, $N = 1, \\dots, 128$ ({REPS} reps)",
                mc["mean"][0],
                np.full(n.shape, d.mean),
                mc["mean"][1],
            )
        )
        out.append(
            check_monte_carlo(
                f"{d.name}: $N \\operatorname{{Var}}[\\bar x_N]$ vs $\\sigma^2 = {d.var:.4g}$",
                n * mc["var"][0],
                np.full(n.shape, d.var),
                n * mc["var"][1],
            )
        )
    return out


@claim(
    CHAPTER,
    "$\\operatorname{Var}[\\bar x_N]$ falls like $N^{-1}$: fitted log-log slope $-1$",
    equation="eq-mean-variance",
)
def check_variance_slope():
    out = []
    for i, d in enumerate(DISTRIBUTIONS):
        out += rate_checks(
            f"{d.name}: $\\operatorname{{Var}}[\\bar x_N]$ vs $N$, $N = 1, \\dots, 128$ "
            f"({RATE_BATCHES} batches of {REPS // RATE_BATCHES} reps)",
            SIZES,
            batch_moments(i)["var"],
            -1.0,
            variable="N",
            detail="exact at every $N$: no next-order term",
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
            f"sympy.stats: $\\operatorname{{Var}}$ of the expectation $\\mathbb{{E}}[\\bar x]$ (3 i.i.d. {name}; "
            "$\\mathbb{E}[\\bar x] = \\mu$, a number) vs $\\sigma^2/3$",
            variance(E(xbar)),
            var / 3,
            expect=False,
        ),
        check_monte_carlo(
            f"spread of the sample mean $\\bar x$ itself vs $\\sigma/\\sqrt{{N}} = {source_sd:.4f}$, $N = {N}$ "
            f"({REPS} reps)",
            np.array(sd_xbar),
            np.array(source_sd),
            np.array(sd_xbar_se),
        ),
    ]


@claim(
    CHAPTER,
    "The skewness of $\\bar x_N$ is $\\gamma/\\sqrt{N}$: the distance to the normal falls like $N^{-1/2}$ for skewed "
    "draws",
    equation="eq-skewness",
)
def check_skewness_decay():
    out = []
    n = np.array(SIZES, dtype=float)
    for i, d in enumerate(DISTRIBUTIONS):
        est, se = chapter_moments(i)["skew"]
        out.append(
            check_monte_carlo(
                f"{d.name}: skewness of $\\bar x_N$ vs $\\gamma/\\sqrt{{N}}$, $\\gamma = {d.skew:.3g}$",
                est,
                d.skew / np.sqrt(n),
                se,
            )
        )
        if d.skew != 0:
            out += rate_checks(
                f"{d.name}: skewness of $\\bar x_N$ vs $N$, $N = 1, \\dots, 128$ "
                f"({RATE_BATCHES} batches of {REPS // RATE_BATCHES} reps)",
                SIZES,
                np.sign(d.skew) * batch_moments(i)["skew"],
                -0.5,
                alternative=-1.0,
                variable="N",
                detail="exact at every $N$: no next-order term; $N^{-1}$ is the rate of symmetric draws",
            )
    return out


@claim(
    CHAPTER,
    "For symmetric draws (uniform) the skewness vanishes and the excess kurtosis $\\kappa/N$ sets the distance: it "
    "falls like $N^{-1}$",
    equation="eq-skewness",
)
def check_kurtosis_uniform():
    d = DISTRIBUTIONS[1]
    est, se = chapter_moments(1)["exkurt"]
    n = np.array(SIZES, dtype=float)
    return [
        check_monte_carlo(
            f"{d.name}: excess kurtosis of $\\bar x_N$ vs $-1.2/N$, $N = 1, \\dots, 128$", est, d.exkurt / n, se
        ),
        *rate_checks(
            f"{d.name}: $\\lvert$excess kurtosis$\\rvert$ of $\\bar x_N$ vs $N$, $N = 1, \\dots, 16$ "
            f"({RATE_BATCHES} batches of {KURTOSIS_REPS // RATE_BATCHES} reps, key 103)",
            KURTOSIS_SIZES,
            np.sign(d.exkurt) * kurtosis_batches(),
            -1.0,
            alternative=-0.5,
            variable="N",
            detail="exact at every $N$: no next-order term; $N^{-1/2}$ is the rate of skewed draws",
        ),
    ]


# The KS rate is checked by the book's one criterion (rate_checks) on exact distances, deterministic values whose
# noise is the grid's: near its maximum g = F - Phi ~ -gamma (z^2 - 1) phi(z) / (6 sqrt(N)), |g''| <= 0.4/sqrt(N),
# so a grid of spacing dz misses the sup by at most 0.05 dz^2/sqrt(N): 2.4e-7 of the distance at every N. The
# O(1/N) Edgeworth term is odd in z (Hermite polynomials He3, He5) and vanishes at z = 0, where the maximum sits, so
# sqrt(N) d_N approaches its limit like 1/N: the relative next-order term is N^-1 (next_order = -1). The term after
# it (relative N^-2) moves the fitted exponent by 3e-6 from N = 16 on, above the grid's noise; from N = 128 on it is
# below it, so the fit starts there.
KS_SIZES = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)
KS_GRID = 20001
# For the Bernoulli (a lattice) the limit of sqrt(N) d_N depends on where the lattice falls relative to the mean;
# at sizes with N p an integer an atom sits at z = 0 and the limit is (|gamma|/6 + 1/(2 sigma)) phi(0): the
# continuous Edgeworth term there plus half the atom's jump phi(0)/(sigma sqrt(N)) (local CLT). Its approach is
# like 1/N again, and smooth to the last digit: a fitted exponent would need the term after the next one (relative
# N^-2) below the exact values' rounding, which no range reaches, so the Bernoulli's rate is checked as this limit.
ESSEEN_SIZES = (2560, 5120)


def _richardson_limit_check(what: str, sizes, values, limit: float, *, noise: float | None = None):
    """``sqrt(N) d_N`` at the larger of two sizes ``N/2, N`` against its limit; tolerance twice the Richardson
    estimate ``|v_N - v_{N/2}|`` of the ``O(1/N)`` remainder (``v_N = L + a/N + O(N^-2)``: the difference is
    ``a/N`` to leading order)."""
    v = np.sqrt(np.asarray(sizes, dtype=float)) * np.asarray(values)
    return check_close(
        what,
        np.array(v[-1]),
        np.array(limit),
        atol=2 * abs(float(v[-1] - v[-2])),
        detail="tol $2\\lvert v_N - v_{N/2}\\rvert$, $v_N = \\sqrt{N}\\, d_N$: twice the Richardson estimate of "
        "the $O(1/N)$ remainder",
        noise=noise,
    )


@claim(
    CHAPTER,
    "The Kolmogorov-Smirnov distance of the standardized mean to $\\mathcal{N}(0, 1)$ falls like $N^{-1/2}$ "
    "(exact laws)",
    equation="eq-berry-esseen",
)
def check_ks_rate():
    exp_d, ber = DISTRIBUTIONS[0], DISTRIBUTIONS[2]
    ks_exp = np.array([ks_to_normal_exact("exponential", n, grid=KS_GRID) for n in KS_SIZES])
    dz = 16.0 / (KS_GRID - 1)
    grid_error = 0.4 / math.sqrt(KS_SIZES[-1]) * dz**2 / 8  # at the largest N, where d_N is smallest
    edgeworth = abs(exp_d.skew) / (6 * math.sqrt(2 * math.pi))  # |gamma| phi(0) / 6, gamma = 2
    sigma = math.sqrt(ber.var)
    lattice = (abs(ber.skew) / 6 + 1 / (2 * sigma)) / math.sqrt(2 * math.pi)
    ks_ber = [ks_to_normal_exact("bernoulli", n, p=ber.mean) for n in ESSEEN_SIZES]
    return [
        *rate_checks(
            f"exponential: exact KS distance $d_N$ vs $N$, $N = {KS_SIZES[0]}, \\dots, {KS_SIZES[-1]}$",
            KS_SIZES,
            ks_exp,
            -0.5,
            next_order=-1.0,
            alternative=-1.0,
            y_noise=grid_error,
            variable="N",
            detail="the $O(1/N)$ Edgeworth term vanishes at $z = 0$: next-order term $N^{-1}$ relative; "
            "noise: the grid's, $0.05\\, dz^2/\\sqrt{N}$",
        ),
        _richardson_limit_check(
            f"exponential: $\\sqrt{{N}}\\, d_N$ at $N = {KS_SIZES[-1]}$ vs the Edgeworth constant "
            f"$\\lvert\\gamma\\rvert \\varphi(0)/6 = {edgeworth:.4f}$",
            KS_SIZES[-2:],
            ks_exp[-2:],
            edgeworth,
            noise=math.sqrt(KS_SIZES[-1]) * grid_error,
        ),
        _richardson_limit_check(
            f"{ber.name}: $\\sqrt{{N}}\\, d_N$ at $N = {ESSEEN_SIZES[-1]}$ ($Np$ an integer) vs "
            f"$(\\lvert\\gamma\\rvert/6 + 1/(2\\sigma))\\varphi(0) = {lattice:.4f}$",
            ESSEEN_SIZES,
            ks_ber,
            lattice,
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
MV_REPS = 30_000  # no rate is fitted to the vector draws: 5 standard errors of 30 000 replications suffice


@functools.cache
def _multivariate_sampler():
    return correlated_sampler(jnp.array(MV_MU), jnp.array(MV_L))


@claim(
    CHAPTER,
    "For i.i.d. vectors with covariance $\\Sigma$, the sample mean has covariance $\\Sigma/N$",
    equation="eq-multivariate",
    source_holds=True,
    where="Basics, central limit theorem (multidimensional vectors)",
)
def check_multivariate_covariance():
    L = np.array(MV_L)
    Sigma = L @ L.T
    xb = clt.sample_means(_multivariate_sampler(), MV_SIZES, MV_REPS, key=jax.random.key(200))  # (R, m, d)
    cov = lambda b: jnp.einsum("rmi,rmj->mij", b - b.mean(0), b - b.mean(0)) / b.shape[0]  # noqa: E731
    est, se = clt.batch_stderr(xb, cov)
    mean, mean_se = clt.batch_stderr(xb, lambda b: b.mean(0))
    n = np.array(MV_SIZES, dtype=float)[:, None, None]
    return [
        check_monte_carlo(
            "mean of $\\bar{\\mathbf{x}}_N$ ($N = 1, 8, 64$) vs $\\boldsymbol{\\mu}$",
            mean,
            np.broadcast_to(np.array(MV_MU), mean.shape),
            mean_se,
        ),
        check_monte_carlo(
            "$N \\operatorname{Cov}[\\bar{\\mathbf{x}}_N]$ vs $\\Sigma = L L^\\top$, all $3 \\times 3$ entries, "
            "$N = 1, 8, 64$",
            n * np.asarray(est),
            np.broadcast_to(Sigma, est.shape),
            n * np.asarray(se),
        ),
    ]
