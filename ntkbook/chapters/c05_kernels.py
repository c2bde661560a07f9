"""Chapter 5 -- kernels and kernel methods: the chapter's data, studies and claims.

The chapter checks that the common kernels (:mod:`ntkbook.kernels`) give symmetric, positive
semi-definite Gram matrices (and that symmetry alone is not enough), that the polynomial kernel is
an inner product of explicit features, that random Fourier features estimate the RBF kernel with
an error decaying like ``D^(-1/2)`` (independent draws at every ``D``), and compares three ways to
predict with a kernel on one regression problem: the raw weighted sum of labels as the source writes
it, kernel ridge regression (whose training residual falls like ``lambda``) and the Nadaraya--Watson
weighted average.

The notebook ``book/05-kernels.ipynb`` imports this module as ``ch``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import kernels
from ..claims import (
    check_bound,
    check_close,
    check_monte_carlo,
    check_symbolic,
    claim,
    rate_checks,
    rounding,
    shown,
)
from ..validate import positive_int, prng_key

CHAPTER = "05-kernels"

__all__ = [
    "CHAPTER",
    "INTERPOLATION_LENGTHSCALE",
    "REGRESSION_LENGTHSCALE",
    "RFF_SEEDS",
    "RFF_SIZES",
    "RIDGE_LAMBDAS",
    "RegressionData",
    "check_kernel_ridge",
    "check_nadaraya_watson",
    "check_polynomial_features",
    "check_predictor_comparison",
    "check_psd",
    "check_rff_rate",
    "check_rff_unbiased",
    "check_symmetric_not_psd",
    "check_symmetry",
    "check_weighted_sum_as_written",
    "compare_predictors",
    "example_grams",
    "format_eig_ratio",
    "random_inputs",
    "regression_data",
    "rff_errors",
    "rff_rate_data",
    "ridge_residual_rounding",
]


# --------------------------------------------------------------------------- the chapter's data and checks


def random_inputs(key: jax.Array, n: int = 60, d: int = 3) -> jax.Array:
    """``(n, d)`` standard normal inputs."""
    return jax.random.normal(prng_key(key), (n, d))


def example_grams(x: jax.Array) -> dict[str, jax.Array]:
    """The chapter's Gram matrices on ``x`` (shape ``(N, d)``): linear, two polynomial, two RBF; each ``(N, N)``."""
    return {
        "linear": kernels.linear(x, x),
        "polynomial p=2, c=1": kernels.polynomial(x, x, 2, 1.0),
        "polynomial p=3, c=0.5": kernels.polynomial(x, x, 3, 0.5),
        "rbf l=1": kernels.rbf(x, x, 1.0),
        "rbf l=0.3": kernels.rbf(x, x, 0.3),
    }


# The Gram matrices' names in the check texts (TeX).
_GRAM_LABELS = {
    "linear": "linear",
    "polynomial p=2, c=1": "polynomial $p = 2$, $c = 1$",
    "polynomial p=3, c=0.5": "polynomial $p = 3$, $c = 0.5$",
    "rbf l=1": "RBF $\\ell = 1$",
    "rbf l=0.3": "RBF $\\ell = 0.3$",
}


# Symmetry: K[i, j] and K[j, i] are the same sum of d products, possibly added in another order by the
# matrix-multiply kernel: a few ulps of max|K|, held to the shared rounding allowance (relative). A
# tolerance of a few eps would print a rounding-level number whose meaning changes with the CPU.


@claim(
    CHAPTER,
    "Common kernels are symmetric, $K(x, x') = K(x', x)$",
    equation="eq-kernel-psd",
    source_holds=True,
    where="Basics, kernel & kernel methods",
)
def check_symmetry():
    x = random_inputs(jax.random.key(30))
    return [
        check_close(
            f"{_GRAM_LABELS[name]}: $\\max\\lvert K - K^\\top\\rvert / \\max\\lvert K\\rvert$, 60 points in $\\mathbb{{R}}^3$",
            K,
            K.T,
            atol=rounding(),
            relative=True,
        )
        for name, K in example_grams(x).items()
    ]


def format_eig_ratio(ratio: float, tol: float, *, tex: bool = False) -> str:
    """``lambda_min / lambda_max`` as stable text: the value if above ``tol`` in magnitude, else a note
    (plain text, or with its mathematics in TeX for a check's detail when ``tex``)."""
    # Ratios at rounding level have CPU- and thread-dependent digits (and sign): do not print them.
    # The ratio's rounding is up to tol = n eps: shown() prints only digits above it.
    if abs(ratio) > tol:
        return shown(ratio, tol)
    return (
        "0 up to rounding ($\\lvert\\mathrm{ratio}\\rvert \\le n\\varepsilon$)"
        if tex
        else "0 up to rounding (|ratio| <= n eps)"
    )


@claim(
    CHAPTER,
    "Linear, polynomial ($c \\ge 0$) and RBF Gram matrices are positive semi-definite",
    equation="eq-kernel-psd",
)
def check_psd():
    x = random_inputs(jax.random.key(30))
    out = []
    for name, K in example_grams(x).items():
        ratio = kernels.min_eig_ratio(K)
        tol = kernels.psd_tolerance(K)
        # The check: the negative part of lambda_min / lambda_max is at most n eps.
        out.append(
            check_close(
                f"{_GRAM_LABELS[name]}: $\\max(0, -\\lambda_{{\\min}}/\\lambda_{{\\max}}) \\le n\\varepsilon$ ($n = 60$)",
                np.array(max(0.0, -ratio)),
                np.array(0.0),
                atol=tol,
                detail=f"$\\lambda_{{\\min}}/\\lambda_{{\\max}}$ = {format_eig_ratio(ratio, tol, tex=True)}",
            )
        )
    return out


@claim(
    CHAPTER,
    "Symmetry alone is not enough: the distance matrix $\\lVert x - x'\\rVert$ is symmetric but not PSD",
    equation="eq-kernel-psd",
)
def check_symmetric_not_psd():
    x = random_inputs(jax.random.key(30))
    D = jnp.sqrt(kernels.squared_distances(x, x))
    ratio = kernels.min_eig_ratio(D)
    # trace(D) = 0 and D != 0, so lambda_min < 0; in fact lambda_min <= -lambda_max / (n - 1).
    return [
        check_close("distance matrix: $\\max\\lvert D - D^\\top\\rvert$", D, D.T, atol=0.0),
        check_close(
            "distance matrix: is_psd($D$) is False (0 = False)",
            np.array(float(kernels.is_psd(D))),
            np.array(0.0),
            atol=0,
            detail=f"$\\lambda_{{\\min}}/\\lambda_{{\\max}} = {ratio:.3f}$",
        ),
        check_close(
            "distance matrix: $\\lambda_{\\min}/\\lambda_{\\max} \\le -1/(n-1)$ (the trace is 0)",
            np.array(max(0.0, ratio + 1 / (D.shape[0] - 1))),
            np.array(0.0),
            atol=0,
        ),
    ]


@claim(
    CHAPTER,
    "The polynomial kernel is an inner product of explicit features, $K = \\langle\\varphi(x), \\varphi(x')\\rangle$",
    equation="eq-poly-features",
    source_holds=True,
    where="Basics, kernel & kernel methods (feature maps)",
)
def check_polynomial_features():
    import sympy as sp

    out = []
    for d, p in ((2, 2), (3, 3)):
        xs = sp.symbols(f"x1:{d + 1}", real=True)
        zs = sp.symbols(f"z1:{d + 1}", real=True)
        c = sp.Symbol("c", positive=True)
        alphas, _ = kernels.polynomial_multi_indices(d, p, 1.0)

        def phi(v):
            return [
                sp.sqrt(sp.factorial(p) / sp.prod([sp.factorial(int(k)) for k in a]) * c ** int(a[0]))
                * sp.prod([vi ** int(ai) for vi, ai in zip(v, a[1:])])
                for a in alphas
            ]

        lhs = sum(f * g for f, g in zip(phi(xs), phi(zs)))
        rhs = (sum(xi * zi for xi, zi in zip(xs, zs)) + c) ** p
        out.append(
            check_symbolic(
                f"sympy: $\\langle\\varphi(x), \\varphi(z)\\rangle$ vs $(x^\\top z + c)^{p}$, $d = {d}$, "
                f"{len(alphas)} features",
                lhs,
                rhs,
            )
        )
    x = random_inputs(jax.random.key(31), 40, 3)
    F = kernels.polynomial_feature_map(x, 3, 0.5)
    K = kernels.polynomial(x, x, 3, 0.5)
    # Rounding: both sides sum O(20) terms of size up to max|K|: a few ulps of max|K| (relative).
    out.append(
        check_close(
            "float64: $\\varphi(x) \\varphi(x')^\\top$ vs kernels.polynomial with $p = 3$, $c = 0.5$, 40 points",
            F @ F.T,
            K,
            atol=rounding(),
            relative=True,
        )
    )
    return out


RFF_SIZES = np.array([16, 32, 64, 128, 256, 512, 1024, 2048])
# Independent draws (seeds) at every number of features D: each (D, seed) has its own key.
RFF_SEEDS = 32


@functools.partial(jax.jit, static_argnames=("d_max", "lengthscale"))
def _rff_rms(keys: jax.Array, x: jax.Array, sizes: jax.Array, d_max: int, lengthscale: float) -> jax.Array:
    """RMS over the Gram matrix of ``phi phi^T - K``, with ``sizes[w]`` features drawn with ``keys[w, s]``:
    shape ``(W, S)``. One program for every ``D``: the key draws ``d_max`` features, of which the estimate
    uses the first ``D`` (i.i.d. draws, so they are ``D`` fresh features; no other estimate uses this key)."""
    K = kernels.rbf(x, x, lengthscale)
    feature = jnp.arange(d_max)

    def rms(key, D):
        C = kernels.random_fourier_features(key, x, d_max, lengthscale) * jnp.sqrt(d_max / 2.0)  # cos(W^T x + b)
        est = (C * (feature < D)) @ C.T * (2.0 / D)
        return jnp.sqrt(jnp.mean((est - K) ** 2))

    return jax.vmap(lambda kk, D: jax.vmap(lambda k: rms(k, D))(kk))(keys, sizes)


def rff_errors(
    x: jax.Array, lengthscale: float = 1.0, sizes=RFF_SIZES, seeds: int = RFF_SEEDS, *, key: jax.Array | None = None
) -> np.ndarray:
    """RMS error of the RFF Gram matrix against the RBF one on ``x`` (shape ``(N, d)``): shape
    ``(len(sizes), seeds)``, entry ``[w, s]`` from ``sizes[w]`` features of its own key
    ``jax.random.split(key, (len(sizes), seeds))[w, s]`` (default key 32; ``vmap`` over both).

    Independent draws at every size and seed (never the features of one draw truncated to several
    sizes), so that the rate's standard error (:func:`ntkbook.rates.rate_test`) holds.
    """
    sizes = [positive_int(D, "sizes") for D in np.asarray(sizes).tolist()]
    seeds = positive_int(seeds, "seeds", minimum=2)
    keys = jax.random.split(prng_key(jax.random.key(32) if key is None else key), (len(sizes), seeds))
    # x is passed as an argument so that it is traced too (validation then checks shapes only).
    return np.asarray(_rff_rms(keys, x, jnp.asarray(sizes), max(sizes), float(lengthscale)))


@claim(CHAPTER, "Random Fourier features are an unbiased Monte Carlo estimate of the RBF kernel", equation="eq-rff")
def check_rff_unbiased():
    x = random_inputs(jax.random.key(33), 6, 3)
    D = 4096
    F = kernels.random_fourier_features(jax.random.key(34), x, D, 1.0)
    # Per-feature products z_k(x) z_k(x') = 2 cos(w_k.x + b_k) cos(w_k.x' + b_k); the estimate is their
    # mean, with standard error = sample sd / sqrt(D).
    terms = D * F[:, None, :] * F[None, :, :]  # (N, N, D)
    est = jnp.mean(terms, axis=-1)
    se = jnp.std(terms, axis=-1, ddof=1) / jnp.sqrt(D)
    iu = np.triu_indices(x.shape[0])
    return check_monte_carlo(
        f"RFF Gram entries ($D = {D}$, key 34) vs the RBF kernel, 21 pairs", est[iu], kernels.rbf(x, x, 1.0)[iu], se[iu]
    )


@functools.lru_cache(maxsize=1)
def rff_rate_data() -> tuple[np.ndarray, np.ndarray]:
    """``(sizes, errors)``: :func:`rff_errors` on 20 points in ``R^3`` (key 33), ``l = 1``, errors of
    shape ``(len(RFF_SIZES), RFF_SEEDS)``: the data of the rate check and of the chapter's figure (cached)."""
    x = random_inputs(jax.random.key(33), 20, 3)
    return RFF_SIZES.copy(), rff_errors(x)


@claim(CHAPTER, "The RFF approximation error decays like $D^{-1/2}$", equation="eq-rff")
def check_rff_rate():
    sizes, errors = rff_rate_data()
    # The estimate is an average of D i.i.d. terms: sqrt(D) (estimate - K) tends to a Gaussian matrix G, so
    # E[RMS] = D^(-1/2) E[RMS(G)] (1 + b/D + ...). The D^(-1) correction (next_order = -1) is the first one: the
    # D^(-1/2) term of the Edgeworth expansion is odd in G and the RMS is even, so it vanishes. The mean squared
    # error falls like D^(-1) exactly: that exponent, which the RMS must not show, is the alternative.
    return rate_checks(
        f"mean RMS of $\\varphi\\varphi^\\top - K$ vs $D \\in [16, 2048]$, {RFF_SEEDS} independent draws per $D$ "
        "(keys 32, 33)",
        sizes.astype(float),
        errors.copy(),
        -0.5,
        next_order=-1.0,
        alternative=-1.0,
        variable="D",
    )


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


@claim(
    CHAPTER,
    "As written, the prediction $\\sum_i K(x_i, x)\\, y_i$ is a kernel method's prediction",
    equation="eq-weighted-sum",
    source_holds=False,
    where="Basics, kernel & kernel methods",
    source_says="the label of a new input x is predicted by the weighted sum sum_i K(x^(i), x) y^(i)",
    truth="kernel predictors have the form sum_i alpha_i K(x^(i), x) with weights alpha solved from the data, "
    "e.g. alpha = (K + lambda I)^{-1} y (kernel ridge regression / GP mean); with alpha = y the sum "
    "changes with the scale of K, does not reproduce constants and does not fit the training data. "
    "The normalised sum_i K(x^(i), x) y^(i) / sum_i K(x^(i), x) (Nadaraya-Watson) is a valid smoother.",
)
def check_weighted_sum_as_written():
    data = regression_data()
    ell = REGRESSION_LENGTHSCALE
    Kc = kernels.rbf(data.x_test, data.x_train, ell)
    K = kernels.rbf(data.x_train, data.x_train, ell)
    ones = jnp.ones(data.x_train.shape[0])
    return [
        check_close(
            "weighted sum, labels $y = 1$: prediction vs 1 on the test grid",
            kernels.weighted_sum_predict(Kc, ones),
            jnp.ones(data.x_test.shape[0]),
            atol=0.1,
            expect=False,
            detail="tol 0.1: a loose bar, any usable predictor of a constant meets it",
        ),
        check_close(
            "weighted sum with $2K$ (same similarity, scaled) vs with $K$",
            kernels.weighted_sum_predict(2 * Kc, data.y_train),
            kernels.weighted_sum_predict(Kc, data.y_train),
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            "weighted sum at the training inputs vs the training labels",
            kernels.weighted_sum_predict(K, data.y_train),
            data.y_train,
            atol=0.3,
            expect=False,
            detail="tol 0.3: 3 times the label noise sd",
        ),
        check_close(
            "weighted sum on the test grid vs the noise-free target",
            kernels.weighted_sum_predict(Kc, data.y_train),
            data.y_test,
            atol=0.3,
            expect=False,
            detail="tol 0.3: 3 times the label noise sd",
        ),
    ]


INTERPOLATION_LENGTHSCALE = 0.2
# The ridges of the interpolation rate: far below lambda_min(K) ~ 1.3e-5 (l = 0.2), far above the rounding of the
# residual of the Cholesky solve (ridge_residual_rounding, ~2e-10 against residuals >= 3e-6).
RIDGE_LAMBDAS = np.logspace(-9, -7, 5)


def ridge_residual_rounding(K: jax.Array, y: jax.Array, reg: float, alpha: jax.Array) -> float:
    """A bound on the rounding error of the computed residual ``max|K alpha - y|`` of a Cholesky solve
    ``alpha`` of ``(K + reg I) alpha = y`` (``K`` of shape ``(N, N)``, ``y`` of shape ``(N,)``).

    The solve is backward stable: ``(K + reg I + E) alpha = y`` with ``|E| <= gamma_{3N+1} |L| |L^T|``
    (componentwise, ``L`` the Cholesky factor; Higham, *Accuracy and Stability of Numerical Algorithms*, 2002,
    Thm. 10.4), so ``K alpha - y = -reg alpha - E alpha``; forming ``K alpha - y`` adds at most
    ``gamma_{N+1} (|K| |alpha| + |y|)``. With ``gamma_k <= k eps`` the bound is
    ``max_i [(3N+1) eps |L| |L^T| |alpha| + (N+1) eps (|K| |alpha| + |y|)]_i``. (``gamma_k`` is ``k u / (1 - k u)``
    with ``u = eps / 2``: the factor 2 also covers the change of ``alpha`` itself, ``(K + reg I)^-1 E alpha``, which
    moves ``-reg alpha`` by at most ``reg / (lambda_min + reg)`` times ``|E alpha|``, a small fraction for
    ``reg << lambda_min(K)``.)
    """
    n = K.shape[0]
    eps = float(np.finfo(np.float64).eps)
    L = jnp.abs(jnp.linalg.cholesky(K + reg * jnp.eye(n)))
    a = jnp.abs(alpha)
    bound = (3 * n + 1) * eps * (L @ (L.T @ a)) + (n + 1) * eps * (jnp.abs(K) @ a + jnp.abs(y))
    return float(jnp.max(bound))


@claim(
    CHAPTER,
    "Kernel ridge regression: $(K + \\lambda I)\\alpha = y$; it interpolates the data as $\\lambda \\to 0$",
    equation="eq-kernel-ridge",
)
def check_kernel_ridge():
    data = regression_data()
    y = data.y_train
    n = y.shape[0]
    eps = float(np.finfo(np.float64).eps)
    K = kernels.rbf(data.x_train, data.x_train, REGRESSION_LENGTHSCALE)
    a_chol = kernels.kernel_ridge_fit(K, y, 1e-2)
    A = K + 1e-2 * jnp.eye(n)
    a_lu = jnp.linalg.solve(A, y)
    cond = float(jnp.linalg.cond(A))
    # Interpolation needs lambda << lambda_min(K): with l = 0.2 the smallest eigenvalue is ~1e-5.
    Ki = kernels.rbf(data.x_train, data.x_train, INTERPOLATION_LENGTHSCALE)
    mu_min = float(jnp.linalg.eigvalsh(Ki)[0])
    lams = RIDGE_LAMBDAS
    alphas = [kernels.kernel_ridge_fit(Ki, y, float(lam)) for lam in lams]
    resid = np.array([float(jnp.max(jnp.abs(Ki @ a - y))) for a in alphas])
    # The rate, derived: K alpha - y = -lambda alpha exactly, and alpha(lambda) = (K + lambda I)^-1 y
    # = K^-1 y - lambda K^-2 y + O(lambda^2), so max|K alpha - y| = lambda max|K^-1 y| (1 + O(lambda)): exponent 1,
    # next-order term relative lambda^1 (of size lambda / lambda_min <= 1e-2 here). Each computed residual is
    # within ridge_residual_rounding of the exact one (at most 1e-4 of it here). A numerically singular K
    # (l = 0.5 above: the residual stays near 0.1) would show the exponent 0: the alternative.
    resid_noise = max(ridge_residual_rounding(Ki, y, float(lam), a) for lam, a in zip(lams, alphas))
    return [
        # Both solves are backward stable: relative difference <~ cond * eps.
        check_close(
            "Cholesky $\\alpha$ vs jnp.linalg.solve $\\alpha$, $\\lambda = 10^{-2}$, $\\ell = 0.5$",
            a_chol,
            a_lu,
            atol=10 * cond * eps,
            relative=True,
            detail=f"tol $10\\,\\mathrm{{cond}}\\,\\varepsilon$, $\\mathrm{{cond}}(K + \\lambda I)$ = {cond:.1e}",
        ),
        *rate_checks(
            "training residual $\\max\\lvert K\\alpha - y\\rvert$ vs $\\lambda \\in [10^{-9}, 10^{-7}]$, "
            f"$\\ell = 0.2$, $\\lambda_{{\\min}}(K)$ = {mu_min:.1e}",
            lams,
            resid,
            1.0,
            next_order=1.0,
            alternative=0.0,
            y_noise=resid_noise,
            variable="\\lambda",
            detail="$K\\alpha - y = -\\lambda\\alpha \\to -\\lambda K^{-1} y$; rounding of each residual at most "
            f"{shown(resid_noise)} (backward error of the Cholesky solve)",
        ),
    ]


@claim(
    CHAPTER,
    "Nadaraya-Watson reproduces constants, is scale-invariant and averages the labels",
    equation="eq-nadaraya-watson",
)
def check_nadaraya_watson():
    data = regression_data()
    Kc = kernels.rbf(data.x_test, data.x_train, REGRESSION_LENGTHSCALE)
    ones = jnp.ones(data.x_train.shape[0])
    pred = kernels.nadaraya_watson(Kc, data.y_train)
    lo, hi = float(jnp.min(data.y_train)), float(jnp.max(data.y_train))
    outside = jnp.maximum(0.0, jnp.maximum(pred - hi, lo - pred))
    # A weighted average of 30 labels of size <~ 2: rounding ~ N eps max|y| ~ 1e-14; held to 1e-13.
    tol = rounding()
    return [
        check_close(
            "NW with labels $y = 1$ vs 1 on the test grid",
            kernels.nadaraya_watson(Kc, ones),
            jnp.ones(Kc.shape[0]),
            atol=tol,
        ),
        check_close("NW with $2K$ vs NW with $K$", kernels.nadaraya_watson(2 * Kc, data.y_train), pred, atol=tol),
        check_bound("distance of NW predictions outside $[\\min y, \\max y]$", outside, tol),
    ]


def compare_predictors(reg: float = 1e-2) -> dict[str, float]:
    """Test RMS error of the three predictors on :func:`regression_data` (RBF, l = 0.5)."""
    data = regression_data()
    ell = REGRESSION_LENGTHSCALE
    K = kernels.rbf(data.x_train, data.x_train, ell)
    Kc = kernels.rbf(data.x_test, data.x_train, ell)
    preds = {
        "weighted sum (as written)": kernels.weighted_sum_predict(Kc, data.y_train),
        "Nadaraya-Watson": kernels.nadaraya_watson(Kc, data.y_train),
        f"kernel ridge (lambda = {reg:g})": kernels.kernel_ridge_predict(
            Kc, kernels.kernel_ridge_fit(K, data.y_train, reg)
        ),
    }
    return {k: float(jnp.sqrt(jnp.mean((v - data.y_test) ** 2))) for k, v in preds.items()}


@claim(
    CHAPTER,
    "On the same data, kernel ridge regression fits the target to within the noise level",
    equation="eq-kernel-ridge",
)
def check_predictor_comparison():
    errs = compare_predictors()
    ridge = [v for k, v in errs.items() if k.startswith("kernel ridge")][0]
    # A good fit of sin(2x) + 0.5 from 30 noisy samples (noise sd 0.1) has a test RMS error (against
    # the noise-free target) below the noise level.
    return check_close(
        "kernel ridge ($\\lambda = 10^{-2}$) test RMS error minus the noise sd 0.1, if positive",
        np.array(max(0.0, ridge - 0.1)),
        np.array(0.0),
        atol=0,
        detail=f"RMS {ridge:.3f}",
    )
