"""Chapter 9 -- wide networks at initialization: the NNGP limit (``book/09-nngp.ipynb``).

The chapter's data (three inputs in ``R^4``, ``β = 0.1``), its seeded Monte Carlo studies of finite
ReLU networks (:func:`width_study`), the quadrature-error study behind its figure
(:func:`quadrature_errors`), the sympy derivations of ``Σ^(1)`` and of the second moment, and its
claims. The kernels themselves are the library's, :mod:`ntkbook.nngp`.

References: :cite:`weng2022ntk` (Connection with Gaussian processes), :cite:`lee2018dnngp`,
:cite:`neal1996priors`, :cite:`cho2009kernel`, :cite:`williams1998computation`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import activations as _act
from .. import nngp
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
from ..nngp import (
    CLOSED_FORMS,
    draw_networks,
    hermite_rule,
    input_covariance,
    kernel_map,
    monte_carlo_kernel,
    network_outputs,
    nngp_kernel,
    quadrature_rule_map,
    sample_networks,
)
from ..rates import standard_error

CHAPTER = "09-nngp"

__all__ = [
    "CHAPTER",
    "FIGURE_NODES",
    "KS_BATCHES",
    "RATE_SEEDS",
    "RATE_WIDTHS",
    "RELU_NODES",
    "UNIT_SEEDS",
    "UNIT_WIDTHS",
    "chapter_inputs",
    "check_closed_forms_monte_carlo",
    "check_conditional_covariance_given_lower",
    "check_conditional_covariance_mean",
    "check_conditional_covariance_source",
    "check_empirical_covariance_rate",
    "check_gaussianity_rate",
    "check_gp_statement_as_written",
    "check_kurtosis_identity",
    "check_lambda_index_source",
    "check_next_variance",
    "check_next_variance_source",
    "check_normality_with_width",
    "check_output_covariance",
    "check_price_theorem",
    "check_quadrature_relu_rate",
    "check_quadrature_smooth",
    "check_relu_exact_cases",
    "check_second_moment",
    "check_second_moment_source",
    "check_sigma1",
    "check_sigma1_source_line",
    "check_units_independent_source",
    "check_units_uncorrelated_not_independent",
    "ks_distances",
    "quadrature_errors",
    "relu_hat_variance",
    "standardized_outputs",
    "width_study",
]

# The chapter's inputs: three points in R^4 (two at an acute angle, one nearly opposite), fixed.
_X = np.array([[1.0, 0.5, -0.3, 0.8], [0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7]])
_BETA = 0.1
# rounding(stages=10): two float64 computations of the same O(1) quantity by different routes.


def chapter_inputs() -> jax.Array:
    """The three inputs in ``R^4`` used throughout the chapter, shape ``(3, 4)``."""
    return jnp.asarray(_X, dtype=jnp.float64)


def _moment_expectation(expr, randoms: dict):
    """``E[expr]`` for a polynomial in independent random symbols, given their moments
    ``randoms = {symbol: {1: E[r], 2: E[r²]}}`` (expand, then take each monomial's expectation)."""
    import sympy as sp

    poly = sp.Poly(sp.expand(expr), *randoms)
    total = 0
    for powers, coeff in poly.terms():
        term = coeff
        for r, k in zip(randoms, powers):
            if k:
                term *= randoms[r][k]
        total += term
    return sp.expand(total)


def _sigma1_symbols(n0: int = 2):
    import sympy as sp
    from sympy.stats import E, Normal

    mu_w, mu_b = sp.symbols("mu_w mu_b", real=True)
    s_w, s_b = sp.symbols("sigma_w sigma_b", positive=True)
    beta = sp.symbols("beta", nonnegative=True)
    x = sp.symbols(f"x1:{n0 + 1}", real=True)
    xp = sp.symbols(f"xp1:{n0 + 1}", real=True)
    w = sp.symbols(f"w1:{n0 + 1}", real=True)
    b = sp.symbols("b", real=True)
    # Moments of N(mu, s^2) from sympy.stats (not typed in by hand).
    W, B = Normal("W", mu_w, s_w), Normal("B", mu_b, s_b)
    mw = {1: sp.simplify(E(W)), 2: sp.simplify(E(W**2))}
    mb = {1: sp.simplify(E(B)), 2: sp.simplify(E(B**2))}
    randoms = {**{wi: mw for wi in w}, b: mb}
    a = sum(wi * xi for wi, xi in zip(w, x)) / sp.sqrt(n0) + beta * b
    ap = sum(wi * xi for wi, xi in zip(w, xp)) / sp.sqrt(n0) + beta * b
    expectation = _moment_expectation(a * ap, randoms)
    return dict(mu_w=mu_w, mu_b=mu_b, s_w=s_w, s_b=s_b, beta=beta, x=x, xp=xp, w=w, n0=n0, expectation=expectation)


@claim(
    CHAPTER,
    "The source's third line of the $\\Sigma^{(1)}$ derivation is not the expectation of the product: three terms, each "
    "wrong",
    equation="eq-sigma1-derivation",
    source_holds=False,
    where="Connection with Gaussian processes, step (1), third line of the Σ^(1) derivation (source line 177)",
    source_says="E[Ã_m(x)Ã_m(x')] = (1/n_0) σ_w² Σ_i Σ_j x_i x'_j + (β μ_b/√n_0) Σ_i w_im (x_i + x'_i) + σ_b² β²",
    truth="(σ_w²/n_0) Σ_i x_i x'_i + (μ_w²/n_0)(Σ_i x_i)(Σ_j x'_j) + (β μ_w μ_b/√n_0) Σ_i (x_i + x'_i) + β²(σ_b² + μ_b²): "
    "the cross terms i ≠ j carry μ_w², not σ_w² (wrong even at μ = 0, σ = 1, the source's values); the middle term "
    "keeps a random w_im where the expectation gives μ_w; the last term misses β² μ_b². The last two vanish at "
    "μ_w = μ_b = 0, so the line's final result x·x'/n_0 + β² holds there",
)
def check_sigma1_source_line():
    import sympy as sp

    s = _sigma1_symbols()
    n0, x, xp, w, beta = s["n0"], s["x"], s["xp"], s["w"], s["beta"]
    mu_w, mu_b, s_w, s_b = s["mu_w"], s["mu_b"], s["s_w"], s["s_b"]
    # The source's three terms, and the three terms of the true expectation (each error checked with the
    # other two terms corrected, so that each check fails for one reason).
    source = (
        s_w**2 / n0 * sum(xi * xpj for xi in x for xpj in xp),
        beta * mu_b / sp.sqrt(n0) * sum(wi * (xi + xpi) for wi, xi, xpi in zip(w, x, xp)),
        s_b**2 * beta**2,
    )
    true = (
        s_w**2 / n0 * sum(xi * xpi for xi, xpi in zip(x, xp)) + mu_w**2 / n0 * sum(x) * sum(xp),
        beta * mu_w * mu_b / sp.sqrt(n0) * sum(xi + xpi for xi, xpi in zip(x, xp)),
        beta**2 * (s_b**2 + mu_b**2),
    )
    std = {mu_w: 0, mu_b: 0, s_w: 1, s_b: 1}
    one_wrong = [sum(source[k] if k == i else true[k] for k in range(3)) for i in range(3)]
    return [
        check_symbolic(
            "the three corrected terms vs $\\mathbb{E}[\\mathrm{product}]$ (sympy, $n_0 = 2$, general $\\mu$, $\\sigma$)",
            sum(true),
            s["expectation"],
        ),
        check_symbolic(
            "first term $(\\sigma_w^2/n_0) \\sum_i \\sum_j x_i x'_j$ (others corrected) vs "
            "$\\mathbb{E}[\\mathrm{product}]$, general $\\mu$, $\\sigma$",
            one_wrong[0],
            s["expectation"],
            expect=False,
        ),
        check_symbolic(
            "the line as written at the source's $\\mu = 0$, $\\sigma = 1$ (only the double sum differs there) vs "
            "$\\mathbb{E}[\\mathrm{product}]$",
            sum(source).subs(std),
            s["expectation"].subs(std),
            expect=False,
        ),
        check_symbolic(
            "second term $(\\beta \\mu_b/\\sqrt{n_0}) \\sum_i w_{im} (x_i + x'_i)$ (others corrected) vs "
            "$\\mathbb{E}[\\mathrm{product}]$, general $\\mu$, $\\sigma$",
            one_wrong[1],
            s["expectation"],
            expect=False,
        ),
        check_symbolic(
            "third term $\\sigma_b^2 \\beta^2$ (others corrected) vs $\\mathbb{E}[\\mathrm{product}]$, general $\\mu$, "
            "$\\sigma$",
            one_wrong[2],
            s["expectation"],
            expect=False,
        ),
    ]


@claim(
    CHAPTER,
    "$\\Sigma^{(1)}(x, x') = x \\cdot x'/n_0 + \\beta^2$: the expectation of the product, computed term by term",
    equation="eq-sigma1",
    source_holds=True,
    where="Connection with Gaussian processes, step (1), result",
)
def check_sigma1():
    import sympy as sp

    s = _sigma1_symbols()
    n0, x, xp, beta = s["n0"], s["x"], s["xp"], s["beta"]
    general = (
        s["s_w"] ** 2 / n0 * sum(xi * xpi for xi, xpi in zip(x, xp))
        + s["mu_w"] ** 2 / n0 * sum(x) * sum(xp)
        + beta * s["mu_w"] * s["mu_b"] / sp.sqrt(n0) * sum(xi + xpi for xi, xpi in zip(x, xp))
        + beta**2 * (s["s_b"] ** 2 + s["mu_b"] ** 2)
    )
    std = {s["mu_w"]: 0, s["mu_b"]: 0, s["s_w"]: 1, s["s_b"]: 1}
    dot = sum(xi * xpi for xi, xpi in zip(x, xp)) / n0 + beta**2
    xs = chapter_inputs()
    cov, _, _ = input_covariance(xs, beta=_BETA)
    return [
        check_symbolic(
            "$\\mathbb{E}[\\tilde A(x)\\tilde A(x')]$ with general moments (sympy) vs the corrected formula",
            s["expectation"],
            general,
        ),
        check_symbolic(
            "at $\\mu_w = \\mu_b = 0$, $\\sigma_w = \\sigma_b = 1$: "
            "$\\mathbb{E}[\\tilde A(x)\\tilde A(x')] = x \\cdot x'/n_0 + \\beta^2$",
            s["expectation"].subs(std),
            dot,
        ),
        check_close(
            "input_covariance vs $x_1 x_2^\\top/n_0 + \\beta^2$ (numpy)",
            cov,
            _X @ _X.T / 4 + _BETA**2,
            atol=rounding(stages=10),
        ),
    ]


@functools.lru_cache(maxsize=16)
def _networks(depth: int, width: int, n_out: int, seeds: int, seed: int):
    """Cached Monte Carlo draws for the chapter's inputs (ReLU, β = 0.1): numpy arrays
    ``(outputs (S, N, n_out), sigma_hat (S, N, N))``."""
    widths = (_X.shape[1],) + (width,) * (depth - 1) + (n_out,)
    out, sh = sample_networks(
        jax.random.key(seed), chapter_inputs(), widths=widths, seeds=seeds, activation="relu", beta=_BETA
    )
    return np.asarray(out), np.asarray(sh)


def _output_covariance(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over networks of the per-network average over outputs of ``f_m(x) f_m(x')`` and its
    standard error (networks are independent; the outputs of one network are not)."""
    per_net = np.einsum("sam,sbm->sab", out, out) / out.shape[-1]
    return per_net.mean(0), standard_error(per_net, axis=0)


@claim(
    CHAPTER,
    "$\\mathbb{E}[(w \\sigma(\\tilde A))^2] = \\sigma_w^2 \\Sigma^{(l)}(x, x)$ holds only for the identity: for ReLU it "
    "is $\\Sigma^{(l)}(x, x)/2$",
    equation="eq-second-moment",
    source_holds=False,
    where="Connection with Gaussian processes, step (2), second moment of w σ(Ã)",
    source_says="E[(w_im σ(Ã_i(x)))²] = σ_w² Σ^(l)(x, x)",
    truth="E[(w_im σ(Ã_i(x)))²] = σ_w² E[σ(u)²], u ~ N(0, Σ^(l)(x, x)); for ReLU Σ^(l)(x, x)/2",
)
def check_second_moment_source():
    import sympy as sp

    u = sp.symbols("u", real=True)
    s = sp.symbols("s", positive=True)  # s² = Σ^(l)(x, x)
    pdf = sp.exp(-(u**2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    relu_second = sp.integrate(u**2 * pdf, (u, 0, sp.oo))  # E[relu(u)²]
    return check_symbolic(
        "$\\mathbb{E}[\\mathrm{relu}(u)^2]$ (sympy integral) vs the source's $\\Sigma(x, x) = s^2$",
        relu_second,
        s**2,
        expect=False,
    )


@claim(
    CHAPTER,
    "$\\mathbb{E}[(w \\sigma(\\tilde A))^2] = \\mathbb{E}[\\sigma(u)^2]$ with $u \\sim \\mathcal{N}(0, \\Sigma(x, x))$: "
    "$s^2$ for the identity, $s^2/2$ for ReLU, a Gaussian integral in general",
    equation="eq-second-moment",
)
def check_second_moment():
    import sympy as sp

    u = sp.symbols("u", real=True)
    s = sp.symbols("s", positive=True)
    pdf = sp.exp(-(u**2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    identity_second = sp.integrate(u**2 * pdf, (u, -sp.oo, sp.oo))
    relu_second = sp.integrate(u**2 * pdf, (u, 0, sp.oo))
    v = jnp.array([0.3, 1.0, 2.5])
    relu = _closed_form(jnp.diag(v), v, v, activation="relu")
    quad = kernel_map(jnp.diag(v), v, v, activation="relu", method="hermite", nodes=8)
    return [
        check_symbolic("identity: $\\mathbb{E}[u^2] = s^2$ (the source's formula holds here)", identity_second, s**2),
        check_symbolic("ReLU: $\\mathbb{E}[\\mathrm{relu}(u)^2] = s^2/2$", relu_second, s**2 / 2),
        check_close(
            "ReLU closed-form diagonal $\\mathbb{E}[\\mathrm{relu}(u)^2]$ vs $v/2$",
            relu.var1,
            v / 2,
            atol=rounding(stages=10),
        ),
        check_close(
            "ReLU diagonal by Gauss-Hermite (8 nodes; exact: $\\mathrm{relu}(z)^2 = z^2$ on half the symmetric nodes)",
            quad.var1,
            v / 2,
            atol=rounding(stages=10),
        ),
    ]


@claim(
    CHAPTER,
    "The variance of $\\tilde A^{(l+1)}(x)$ is $\\beta^2 + \\operatorname{Var}(\\tilde A^{(l)}(x))$ (source) -- fails for "
    "ReLU networks",
    equation="eq-next-variance",
    source_holds=False,
    where="Connection with Gaussian processes, step (2), after the central limit theorem",
    source_says="Ã_m^(l+1)(x) is Gaussian with variance β² + Var(Ã_i^(l)(x))",
    truth="Var(Ã_m^(l+1)(x)) = β² + E[σ(Ã_i^(l)(x))²] -> Σ^(l+1)(x, x) (for ReLU β² + Σ^(l)(x, x)/2)",
)
def check_next_variance_source():
    out, _ = _networks(2, 32, 16, 2000, 20)
    est, se = _output_covariance(out)
    cov, v1, _ = input_covariance(chapter_inputs(), beta=_BETA)
    return check_monte_carlo(
        "$\\operatorname{Var}(\\tilde A^{(2)}(x))$ over 2000 ReLU networks (width 32, 16 outputs) vs source "
        "$\\beta^2 + \\Sigma^{(1)}(x, x)$",
        np.diag(est),
        _BETA**2 + np.asarray(v1),
        np.diag(se),
        expect=False,
    )


@claim(
    CHAPTER,
    "$\\operatorname{Var}(\\tilde A^{(l+1)}(x)) = \\beta^2 + \\mathbb{E}[\\sigma(u)^2] = \\Sigma^{(l+1)}(x, x)$; for one "
    "hidden layer at every width",
    equation="eq-next-variance",
)
def check_next_variance():
    out, _ = _networks(2, 32, 16, 2000, 20)
    est, se = _output_covariance(out)
    sigma2 = nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA)
    return check_monte_carlo(
        "$\\operatorname{Var}(\\tilde A^{(2)}(x))$ over 2000 ReLU networks (width 32, 16 outputs) vs $\\Sigma^{(2)}(x, x)$",
        np.diag(est),
        np.diag(np.asarray(sigma2)),
        np.diag(se),
    )


@claim(
    CHAPTER,
    "Using $\\Lambda^{(l)}$ built from $\\Sigma^{(l-1)}$ (the source's indices) skips a layer",
    equation="eq-nngp-recursion",
    source_holds=False,
    where="Connection with Gaussian processes, the recursion: λ^(l+1) is built from Σ^(l) but Σ^(l+1) uses λ^(l)",
    source_says="Σ^(l+1) = E_{f ~ N(0, λ^(l))}[σ(f(x))σ(f(x'))] + β², with λ^(l+1) made of Σ^(l)",
    truth="Σ^(l+1) = E_{(u,v) ~ N(0, Λ^(l))}[σ(u)σ(v)] + β² with Λ^(l) made of Σ^(l) (the layer just below)",
)
def check_lambda_index_source():
    out, _ = _networks(3, 64, 16, 2000, 30)
    est, se = _output_covariance(out)
    as_written = nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA)  # Σ^(3) from λ^(2) ∋ Σ^(1)
    return check_monte_carlo(
        "output covariance of 2000 depth-3 ReLU networks (width 64) vs the source's indexing",
        est,
        np.asarray(as_written),
        se,
        expect=False,
    )


@claim(
    CHAPTER,
    "The outputs' covariance is $\\Sigma^{(L)}$ (depth 3, ReLU, $\\beta = 0.1$)",
    equation="eq-nngp-recursion",
    source_holds=True,
    where="Connection with Gaussian processes, the NNGP proposition",
)
def check_output_covariance():
    out, _ = _networks(3, 64, 16, 2000, 30)
    est, se = _output_covariance(out)
    sigma3 = nngp_kernel(chapter_inputs(), depth=3, activation="relu", beta=_BETA)
    return check_monte_carlo(
        "$\\mathbb{E}[f_m(x) f_m(x')]$ over 2000 depth-3 ReLU networks (width 64, 16 outputs) vs $\\Sigma^{(3)}$",
        est,
        np.asarray(sigma3),
        se,
    )


@claim(
    CHAPTER,
    "As written, $\\Sigma^{(l+1)}(x, x') = \\frac{1}{n_l} \\sigma(\\tilde A^{(l)}(x))^\\top \\sigma(\\tilde A^{(l)}(x')) + "
    "\\beta^2$: a deterministic kernel set equal to a random quantity",
    equation="eq-conditional-covariance",
    source_holds=False,
    where="Connection with Gaussian processes, step (2), the line 'similar to how we get Σ^(1)' (source line 195)",
    source_says="Σ^(l+1)(x, x') = E[Ã_m^(l+1)(x)Ã_m^(l+1)(x')] = (1/n_l) σ(Ã_i^(l)(x))ᵀ σ(Ã_i^(l)(x')) + β²",
    truth="(1/n_l) σ(Ã^(l)(x))ᵀσ(Ã^(l)(x')) + β² is the expectation over the last layer's w^(l), b^(l) only, given the "
    "lower layers (that step holds): a random quantity that differs from network to network, with mean "
    "E[Ã_m^(l+1)(x)Ã_m^(l+1)(x')]; it converges to Σ^(l+1) as n_l -> ∞ (law of large numbers), at rate n_l^(-1/2)",
)
def check_conditional_covariance_source():
    _, sh = _networks(2, 32, 16, 2000, 20)
    sigma2 = np.asarray(nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA))
    # For one hidden layer Ã^(1) is exactly Gaussian, so E[Ã^(2)(x)Ã^(2)(x')] = Σ^(2) at every width and
    # is the mean of the conditional covariance. Were the quantity equal to Σ^(2), its squared deviation
    # from Σ^(2) would be 0 in every network; averaged over entries and networks it estimates its variance.
    sq = ((sh - sigma2) ** 2).reshape(sh.shape[0], -1).mean(1)  # one number per network, independent
    return check_monte_carlo(
        "mean square deviation of $\\frac{1}{n_1} \\sigma(\\tilde A^{(1)})^\\top \\sigma(\\tilde A^{(1)}) + \\beta^2$ from "
        "$\\Sigma^{(2)}$ (9 entries, 2000 networks, width 32) vs 0 (were it the deterministic $\\Sigma^{(2)}$)",
        np.array(sq.mean()),
        np.array(0.0),
        standard_error(sq),
        expect=False,
    )


@claim(
    CHAPTER,
    "Given the layers below, $\\mathbb{E}$ over $w^{(l)}, b^{(l)}$ of $\\tilde A^{(l+1)}(x)\\tilde A^{(l+1)}(x')$ is "
    "$\\frac{1}{n_l} \\sigma(\\tilde A^{(l)}(x))^\\top \\sigma(\\tilde A^{(l)}(x')) + \\beta^2$",
    equation="eq-conditional-covariance",
    source_holds=True,
    where="Connection with Gaussian processes, step (2), the line 'similar to how we get Σ^(1)' (source line 195), "
    "read as the expectation over the last layer",
)
def check_conditional_covariance_given_lower():
    # One fixed hidden layer (width 32, ReLU), then 20000 independent draws of the last layer's w, b.
    n, draws = 32, 20_000
    k_hidden, k_w, k_b = jax.random.split(jax.random.key(25), 3)
    w0 = jax.random.normal(k_hidden, (_X.shape[1] + 1, n))
    h = jax.nn.relu(chapter_inputs() @ w0[:-1] / math.sqrt(_X.shape[1]) + _BETA * w0[-1])  # (N, n)
    conditional = np.asarray(h @ h.T / n + _BETA**2)
    out = h @ jax.random.normal(k_w, (n, draws)) / math.sqrt(n) + _BETA * jax.random.normal(k_b, (draws,))
    prods = np.asarray(out[:, None, :] * out[None, :, :])  # (N, N, draws)
    return check_monte_carlo(
        f"mean over {draws} draws of $(w, b)$ of $\\tilde A^{{(2)}}(x)\\tilde A^{{(2)}}(x')$, one fixed hidden layer "
        f"(width {n}) vs $\\frac{{1}}{{n_1}} \\sigma(\\tilde A^{{(1)}})^\\top \\sigma(\\tilde A^{{(1)}}) + \\beta^2$",
        prods.mean(-1),
        conditional,
        standard_error(prods),
    )


@claim(
    CHAPTER,
    "As written, the outputs of an $L$-layer network are i.i.d. centred Gaussian processes: at finite width they are "
    "neither Gaussian nor independent",
    equation="eq-nngp-recursion",
    source_holds=False,
    where="Connection with Gaussian processes, first paragraph (source line 161)",
    source_says="The output functions of a L-layer network, f_i(x; θ) for i = 1, ..., n_L, are i.i.d. centered "
    "Gaussian process of covariance Σ^(L)",
    truth="only in the limit n_1, ..., n_{L-1} -> ∞ (for L >= 2): at finite width each output is a Gaussian scale "
    "mixture (excess kurtosis 3 Var(Σ̂)/E[Σ̂]² > 0), and the outputs share the hidden layer, so they are "
    "uncorrelated but not independent (their squares are correlated). For L = 1 the statement holds at every width",
)
def check_gp_statement_as_written():
    w = width_study()
    i = 1  # width 16
    out, _ = _networks(2, 4, 16, 2000, 21)
    a, b = out[:, 0, 0] ** 2, out[:, 0, 1] ** 2  # two outputs of the same network at one input
    r = float(np.corrcoef(a, b)[0, 1])
    return [
        check_monte_carlo(
            f"excess kurtosis of $f(x_0)$, {RATE_SEEDS} depth-3 ReLU networks of width {RATE_WIDTHS[i]}, vs 0 (Gaussian)",
            np.array(w["kurtosis"][i]),
            np.array(0.0),
            np.array(w["kurtosis_se"][i]),
            expect=False,
        ),
        check_monte_carlo(
            "correlation of $f_1(x_0)^2$ and $f_2(x_0)^2$ over 2000 depth-2 ReLU networks of width 4, vs 0 (independent "
            "outputs; standard error $1/\\sqrt{2000}$)",
            np.array(r),
            np.array(0.0),
            np.array(1 / math.sqrt(a.shape[0])),
            expect=False,
        ),
    ]


UNIT_WIDTHS = (4, 64)
UNIT_SEEDS = 20_000


def _unit_pairs(width: int) -> np.ndarray:
    """Two units ``(Ã_1^(2)(x_0), Ã_2^(2)(x_0))`` of the layer after a hidden layer of ``width`` ReLU units
    (β = 0.1), from ``UNIT_SEEDS`` independent networks (explicit key ``300 + width``): ``(S, 2)``. At ``l = 1`` the
    premise of source line 189 holds exactly: the ``Ã_i^(1)(x_0)`` are i.i.d. ``N(0, Σ^(1)(x_0, x_0))`` at every
    width."""
    out, _ = _networks(2, width, 2, UNIT_SEEDS, 300 + width)
    return out[:, 0, :]


def relu_hat_variance(s: Any, width: Any) -> Any:
    """``Var(Σ̂(x, x))`` for one ReLU hidden layer of ``width`` units with i.i.d. ``N(0, s)`` pre-activations,
    ``Σ̂ = (1/n) Σ_i relu(u_i)² + β²``: ``(E[relu(u)⁴] - E[relu(u)²]²)/n = (3s²/2 - s²/4)/n = 5s²/(4n)``
    (sympy derives the moments in :func:`check_units_uncorrelated_not_independent`)."""
    return 5 * s**2 / (4 * width)


@claim(
    CHAPTER,
    "As written, the units $\\tilde A_1^{(l+1)}, \\dots, \\tilde A_n^{(l+1)}$ are i.i.d.: at finite width their squares are "
    "correlated",
    equation="eq-unit-dependence",
    source_holds=False,
    where="Connection with Gaussian processes, step (2), 'Note that ... are still i.i.d.' (source line 189)",
    source_says="Note that Ã_1^(l+1)(x), ..., Ã_{n_{l+1}}^(l+1)(x) are still i.i.d.",
    truth="at finite n_l the units are identically distributed and uncorrelated but not independent: given the "
    "layer below they are i.i.d. N(0, Σ̂), and the shared random Σ̂ makes Cov((Ã_1)², (Ã_2)²) = Var(Σ̂) > 0; "
    "independent only in the limit n_l -> ∞",
)
def check_units_independent_source():
    # Independence implies E[g(Ã_1) h(Ã_2)] = E[g(Ã_1)] E[h(Ã_2)] for every g, h: with g = h = square, a covariance
    # of 0, whatever the units' law (Gaussian or not), so the check tests independence alone.
    n = UNIT_WIDTHS[0]
    a = _unit_pairs(n)
    prod = (a[:, 0] ** 2 - (a[:, 0] ** 2).mean()) * (a[:, 1] ** 2 - (a[:, 1] ** 2).mean())
    return check_monte_carlo(
        f"$\\operatorname{{Cov}}(\\tilde A_1^2, \\tilde A_2^2)$ at $x_0$ over {UNIT_SEEDS} networks with $n_1 = {n}$ hidden "
        "ReLU units vs 0 (independent units)",
        np.array(prod.mean()),
        np.array(0.0),
        standard_error(prod),
        expect=False,
    )


KS_BATCHES = 20


def standardized_outputs(width: int) -> np.ndarray:
    """``f_1(x_0) / sqrt(Σ^(2)(x_0, x_0))`` of the ``UNIT_SEEDS`` depth-2 ReLU networks with ``width`` hidden units of
    :func:`_unit_pairs` (explicit key ``300 + width``): ``(UNIT_SEEDS,)``, in network order. In the NNGP limit
    ``N(0, 1)``; at every width its variance is exactly 1 (``E[Σ̂] = Σ^(2)`` for one hidden layer)."""
    s = float(nngp_kernel(chapter_inputs()[:1], depth=2, activation="relu", beta=_BETA)[0, 0])
    return _unit_pairs(width)[:, 0] / math.sqrt(s)


def ks_distances(z: np.ndarray, batches: int = KS_BATCHES) -> np.ndarray:
    """The Kolmogorov–Smirnov distance ``sup_t |F̂(t) - Φ(t)|`` between the empirical law of each of ``batches``
    consecutive equal batches of the sample ``z`` and ``N(0, 1)``: ``(batches,)``. Independent batches give a mean
    distance with a standard error."""
    from scipy.special import ndtr

    u = np.sort(ndtr(np.asarray(z).reshape(batches, -1)), axis=1)
    m = u.shape[1]
    i = np.arange(1, m + 1)
    return np.maximum((i / m - u).max(1), (u - (i - 1) / m).max(1))


def _falls(what: str, larger: np.ndarray, smaller: np.ndarray, sigmas: float = 5.0) -> Any:
    """A check that the mean of ``larger`` exceeds the mean of ``smaller`` (independent samples) by at least
    ``sigmas`` standard errors of the difference: the measured ``sigmas · SE / difference`` must be at most 1."""
    diff = float(larger.mean() - smaller.mean())
    se = math.hypot(standard_error(larger), standard_error(smaller))
    z = diff / se
    return check_bound(
        what + f": {sigmas:g} SE / difference ($< 1$: larger at $z \\ge {sigmas:g}$)",
        sigmas * se / diff if diff > 0 else math.inf,
        1.0,
        detail=f"$z$ = {shown(z, 1e-6 * abs(z), 2, 'g')}",
    )


@claim(
    CHAPTER,
    "The law of a network's output approaches the normal law $N(0, \\Sigma^{(L)}(x, x))$ as the width grows: its "
    "Kolmogorov–Smirnov distance from it falls",
    equation="eq-kurtosis",
)
def check_normality_with_width():
    n_small, n_large = UNIT_WIDTHS
    d_small, d_large = (ks_distances(standardized_outputs(n)) for n in UNIT_WIDTHS)
    # the distance a sample of the same size from the normal law itself has (the floor of the statistic)
    d_normal = ks_distances(np.asarray(jax.random.normal(jax.random.key(310), (UNIT_SEEDS,))))
    m = UNIT_SEEDS // KS_BATCHES
    return [
        _falls(
            f"KS distance of $f_1(x_0)/\\sqrt{{\\Sigma^{{(2)}}}}$ from $N(0,1)$, ${KS_BATCHES} \\times {m}$ networks: width "
            f"{n_small} vs exact normal draws",
            d_small,
            d_normal,
        ),
        _falls(
            f"the same mean KS distance: width {n_small} vs width {n_large} (it falls with width)",
            d_small,
            d_large,
        ),
    ]


@claim(
    CHAPTER,
    "At finite width the units are uncorrelated, $\\mathbb{E}[\\tilde A_1 \\tilde A_2] = 0$, but dependent: "
    "$\\operatorname{Cov}(\\tilde A_1^2, \\tilde A_2^2) = \\operatorname{Var}(\\hat\\Sigma) = 5s^2/(4n)$ for ReLU",
    equation="eq-unit-dependence",
)
def check_units_uncorrelated_not_independent():
    import sympy as sp

    u = sp.symbols("u", real=True)
    s = sp.symbols("s", positive=True)
    density = sp.exp(-(u**2) / (2 * s)) / sp.sqrt(2 * sp.pi * s)
    m2 = sp.integrate(u**2 * density, (u, 0, sp.oo))  # E[relu(u)²]
    m4 = sp.integrate(u**4 * density, (u, 0, sp.oo))  # E[relu(u)⁴]
    s0 = float(nngp_kernel(chapter_inputs()[:1], depth=1, beta=_BETA)[0, 0])  # Σ^(1)(x_0, x_0)
    out = [
        check_symbolic(
            "sympy: $\\operatorname{Var}(\\mathrm{relu}(u)^2) = \\mathbb{E}[\\mathrm{relu}(u)^4] - "
            "\\mathbb{E}[\\mathrm{relu}(u)^2]^2$ for $u \\sim \\mathcal{N}(0, s)$ vs $5s^2/4$",
            m4 - m2**2,
            5 * s**2 / 4,
        )
    ]
    for n in UNIT_WIDTHS:
        a = _unit_pairs(n)
        cross = a[:, 0] * a[:, 1]
        prod = (a[:, 0] ** 2 - (a[:, 0] ** 2).mean()) * (a[:, 1] ** 2 - (a[:, 1] ** 2).mean())
        out += [
            check_monte_carlo(
                f"$n_1 = {n}$: $\\mathbb{{E}}[\\tilde A_1 \\tilde A_2]$ at $x_0$ over {UNIT_SEEDS} networks vs 0 (uncorrelated)",
                np.array(cross.mean()),
                np.array(0.0),
                standard_error(cross),
            ),
            check_monte_carlo(
                f"$n_1 = {n}$: $\\operatorname{{Cov}}(\\tilde A_1^2, \\tilde A_2^2)$ vs "
                "$\\operatorname{Var}(\\hat\\Sigma) = 5s^2/(4n_1)$, $s = \\Sigma^{(1)}(x_0, x_0)$",
                np.array(prod.mean()),
                np.array(relu_hat_variance(s0, n)),
                standard_error(prod),
            ),
        ]
    return out


@claim(
    CHAPTER,
    "The conditional covariance has mean $\\Sigma^{(l+1)}$ (one hidden layer, any width)",
    equation="eq-conditional-covariance",
)
def check_conditional_covariance_mean():
    _, sh = _networks(2, 32, 16, 2000, 20)
    sigma2 = np.asarray(nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA))
    return check_monte_carlo(
        "mean over 2000 networks (width 32) of "
        "$\\frac{1}{n_1} \\sigma(\\tilde A^{(1)})^\\top \\sigma(\\tilde A^{(1)}) + \\beta^2$ vs $\\Sigma^{(2)}$",
        sh.mean(0),
        sigma2,
        standard_error(sh, axis=0),
    )


RATE_WIDTHS = (8, 16, 32, 64, 128, 256)
RATE_SEEDS = 256


@functools.lru_cache(maxsize=1)
def width_study() -> dict:
    """Σ̂^(3) of ``RATE_SEEDS`` depth-3 ReLU networks (β = 0.1) at each of ``RATE_WIDTHS``, drawn
    independently at every width (key 100 folded with the width), with two statistics per network
    (``*_samples``, ``(W, S)``) and their means and standard errors per width: the relative deviation
    ``max|Σ̂ - Σ^(3)| / max|Σ^(3)|``, and ``3 (Σ̂(x_0, x_0) - mean)² / mean² · S/(S-1)``, whose mean over the
    networks is ``3 Var(Σ̂(x_0, x_0)) / E[Σ̂(x_0, x_0)]²``: the excess kurtosis of ``f(x_0)``, a Gaussian scale
    mixture given the hidden layers (:func:`check_kurtosis_identity`)."""
    sigma3 = np.asarray(nngp_kernel(chapter_inputs(), depth=3, activation="relu", beta=_BETA))
    dev, kurt = [], []
    for n in RATE_WIDTHS:
        params = draw_networks(jax.random.fold_in(jax.random.key(100), n), (_X.shape[1], n, n, 1), RATE_SEEDS)
        _, sh = network_outputs(params, chapter_inputs(), activation="relu", beta=_BETA)
        sh = np.asarray(sh)
        dev.append(np.max(np.abs(sh - sigma3), axis=(1, 2)) / np.max(np.abs(sigma3)))
        v = sh[:, 0, 0]
        kurt.append(3 * (v - v.mean()) ** 2 / v.mean() ** 2 * RATE_SEEDS / (RATE_SEEDS - 1))
    dev, kurt = np.array(dev), np.array(kurt)
    return dict(
        widths=np.array(RATE_WIDTHS),
        deviation=dev.mean(axis=1),
        deviation_se=standard_error(dev),
        deviation_samples=dev,
        kurtosis=kurt.mean(axis=1),
        kurtosis_se=standard_error(kurt),
        kurtosis_samples=kurt,
    )


@claim(
    CHAPTER,
    "One network's empirical covariance deviates from $\\Sigma^{(L)}$ like $n^{-1/2}$",
    equation="eq-conditional-covariance",
)
def check_empirical_covariance_rate():
    w = width_study()
    return rate_checks(
        f"mean over {RATE_SEEDS} networks of $\\max\\lvert\\hat\\Sigma^{{(3)}} - \\Sigma^{{(3)}}\\rvert/\\max \\Sigma^{{(3)}}$ "
        "vs width "
        f"{RATE_WIDTHS[0]}..{RATE_WIDTHS[-1]}",
        w["widths"].astype(float),
        w["deviation_samples"],
        -0.5,
        next_order=-0.5,
        alternative=-1.0,
        detail="CLT for an average of $n$ i.i.d. terms: fluctuation $\\sim n^{-1/2}$; independent networks at every width",
    )


@claim(
    CHAPTER,
    "The outputs become Gaussian: excess kurtosis "
    "$3 \\operatorname{Var}(\\hat\\Sigma)/\\mathbb{E}[\\hat\\Sigma]^2$ falls like $1/n$",
    equation="eq-kurtosis",
)
def check_gaussianity_rate():
    w = width_study()
    return rate_checks(
        f"$3\\,\\mathrm{{Var}}(\\hat\\Sigma)/\\mathbb{{E}}[\\hat\\Sigma]^2$ at $x_0$ (the excess kurtosis of $f(x_0)$) over "
        f"{RATE_SEEDS} networks vs width {RATE_WIDTHS[0]}..{RATE_WIDTHS[-1]}",
        w["widths"].astype(float),
        w["kurtosis_samples"],
        -1.0,
        next_order=-0.5,
        alternative=-0.5,
        detail="$\\operatorname{Var}(\\hat\\Sigma) \\sim 1/n$; a Gaussian scale mixture has excess kurtosis "
        "$3 \\operatorname{Var}(\\hat\\Sigma)/\\mathbb{E}[\\hat\\Sigma]^2$ (kurtosis_identity)",
    )


@claim(
    CHAPTER,
    "At finite width the output is a Gaussian scale mixture: its excess kurtosis is "
    "$3 \\operatorname{Var}(\\hat\\Sigma)/\\mathbb{E}[\\hat\\Sigma]^2$",
    equation="eq-kurtosis",
)
def check_kurtosis_identity():
    out, sh = _networks(3, 64, 16, 2000, 30)
    f = out[:, 0, :]  # (S, n_out) outputs at x_0
    a, b = (f**4).mean(1), (f**2).mean(1)  # per network
    A, B = a.mean(), b.mean()
    raw = A / B**2 - 3
    grad = np.array([1 / B**2, -2 * A / B**3])
    se_raw = float(np.sqrt(grad @ np.cov(np.stack([a, b])) @ grad / len(a)))
    v = sh[:, 0, 0]
    m1, m2 = v.mean(), (v**2).mean()
    rb = 3 * (m2 / m1**2 - 1)
    g2 = np.array([-6 * m2 / m1**3, 3 / m1**2])
    se_rb = float(np.sqrt(g2 @ np.cov(np.stack([v, v**2])) @ g2 / len(v)))
    return check_monte_carlo(
        "excess kurtosis of $f(x_0)$, 2000 networks $\\times$ 16 outputs (width 64), vs "
        "$3 \\operatorname{Var}(\\hat\\Sigma)/\\mathbb{E}[\\hat\\Sigma]^2$",
        raw,
        rb,
        math.hypot(se_raw, se_rb),
    )


# Kernel-map test cases: (v1, v2, cov) triples covering acute, obtuse and near-orthogonal pairs.
_CASES = np.array([[1.0, 1.0, 0.6], [0.5, 2.0, -0.7], [1.5, 0.8, 0.05], [0.3, 0.3, -0.29]])


@functools.partial(jax.jit, static_argnames=("activation",))
def _closed_form(cov, v1, v2, *, activation):
    # kernel_map's closed form in one compilation per activation and shape (run op by op, it compiles each of its
    # operations)
    return kernel_map(cov, v1, v2, activation=activation)


def _case_arrays():
    v1 = jnp.asarray(_CASES[:, 0])
    v2 = jnp.asarray(_CASES[:, 1])
    cov = jnp.diag(jnp.asarray(_CASES[:, 2]))  # only the diagonal pairs (case i with itself) are used
    return cov, v1, v2


@claim(CHAPTER, "The closed forms (identity, ReLU, erf) agree with direct Monte Carlo", equation="eq-relu-kernel")
def check_closed_forms_monte_carlo():
    results = []
    cov, v1, v2 = _case_arrays()
    z = jax.random.normal(jax.random.key(200), (400_000, 2))
    for act in CLOSED_FORMS:
        m = _closed_form(cov, v1, v2, activation=act)
        mc = monte_carlo_kernel(z, _CASES, activation=act)
        est = np.concatenate([mc["sigma"], mc["sigma_dot"]])
        exp_ = np.concatenate([np.diagonal(np.asarray(m.sigma)), np.diagonal(np.asarray(m.sigma_dot))])
        # identity: E[σ'σ'] = 1 has no sampling error (se 0, and the estimate is exactly 1)
        se = np.concatenate([mc["sigma_se"], mc["sigma_dot_se"]])
        results.append(
            check_monte_carlo(
                f"{act}: $\\mathbb{{E}}[\\sigma(u)\\sigma(v)]$ and $\\mathbb{{E}}[\\sigma'(u)\\sigma'(v)]$ closed form vs "
                "400k samples, 4 covariances",
                est,
                exp_,
                se,
            )
        )
    return results


@functools.lru_cache(maxsize=8)
def quadrature_errors(activation: Any, node_counts: tuple, *, reduce: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Error of the Gauss--Hermite ``E[σσ]`` and ``E[σ'σ']`` against the closed form, reduced over the
    covariances of :data:`_CASES` by ``"max"`` or ``"mean"``; one value per node count. Every rule is
    padded with zero-weight nodes to the largest count, so all counts share one compilation."""
    red = {"max": np.max, "mean": np.mean}[reduce]
    cov, v1, v2 = _case_arrays()
    exact = _closed_form(cov, v1, v2, activation=activation)
    top = max(nngp.check_nodes(int(n)) for n in node_counts)
    es, ed = [], []
    idx = np.arange(len(_CASES))
    for n in node_counts:
        z, w = hermite_rule(int(n))
        zp = np.zeros(top)
        wp = np.zeros(top)
        zp[: len(z)], wp[: len(w)] = z, w
        q = quadrature_rule_map(cov, v1, v2, jnp.asarray(zp), jnp.asarray(wp), activation=_act.get(activation))
        es.append(float(red(np.abs(np.asarray(q.sigma - exact.sigma)[idx, idx]))))
        ed.append(float(red(np.abs(np.asarray(q.sigma_dot - exact.sigma_dot)[idx, idx]))))
    return np.array(es), np.array(ed)


@claim(
    CHAPTER,
    "For smooth $\\sigma$ the quadrature reaches the closed form to near machine precision at modest node counts",
    equation="eq-quadrature",
)
def check_quadrature_smooth():
    es, ed = quadrature_errors("erf", FIGURE_NODES)
    ies, ied = quadrature_errors("identity", (2,))
    k = FIGURE_NODES.index(96)
    return [
        check_close(
            "erf: 96-node Gauss-Hermite $\\mathbb{E}[\\sigma(u)\\sigma(v)]$ vs Williams' closed form (max over 4 "
            "covariances)",
            es[k],
            0.0,
            atol=rounding(),
            detail="rounding of a sum of $96^2$ terms of size $O(1)$",
        ),
        check_close(
            "erf: 96-node Gauss-Hermite $\\mathbb{E}[\\sigma'(u)\\sigma'(v)]$ vs closed form",
            ed[k],
            0.0,
            atol=rounding(),
        ),
        check_close(
            "identity: 2 nodes are exact (the integrand $uv$ is of degree 1 in each variable)",
            np.concatenate([ies, ied]),
            [0.0, 0.0],
            atol=rounding(),
        ),
    ]


FIGURE_NODES = (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
RELU_NODES = (16, 24, 32, 48, 64, 96, 128, 192, 256)


@claim(CHAPTER, "For ReLU the kink limits the quadrature to an algebraic rate", equation="eq-quadrature")
def check_quadrature_relu_rate():
    # Deterministic errors, one value per node count: rate_checks with (W,) values. Near the origin the nodes are
    # spaced h ∝ n^(-1/2) apart. The kink of σ(u) at u = 0 sits midway between the two central nodes (n even)
    # in every row, so its error h² does not cancel: E[σσ] falls like n^(-1) (not like the n^(-1/2) of a
    # jump). The jump of σ'(v) leaves O(h) per row of nodes; it cancels between rows only where its line
    # c z_1 + sqrt(1 - c²) z_2 = 0 crosses the rows at spread-out phases (c = 0.6 here), not where the line runs
    # close to a direction of the grid (c = -0.7: slope 0.98; c ≈ 0.05: slope ≈ -0.05), which dominate the mean:
    # E[σ'σ'] falls like h ∝ n^(-1/2) (not like the n^(-1) of full cancellation). The next-order term of both:
    # the lines cross the cells at arbitrary phases θ, where the Peano expansion of a kink, h² B_2(θ) + h³ B_3(θ)
    # + ..., and of a jump, h B_1(θ) + h² B_2(θ) + ..., keep every power of h: a relative h ∝ n^(-1/2). The
    # errors (above 1e-4) are far above rounding (a sum of n² terms of O(1), at most n² eps ≈ 1.5e-11) at every
    # node count, so all of 16..256 are used.
    es, ed = quadrature_errors("relu", FIGURE_NODES, reduce="mean")
    k = FIGURE_NODES.index(RELU_NODES[0])
    es, ed = es[k:], ed[k:]
    noise = RELU_NODES[-1] ** 2 * float(np.finfo(np.float64).eps)
    nodes = np.array(RELU_NODES, dtype=float)
    span = f"{RELU_NODES[0]}..{RELU_NODES[-1]}"
    return [
        *rate_checks(
            f"ReLU $\\mathbb{{E}}[\\sigma(u)\\sigma(v)]$: mean quadrature error over 4 covariances vs nodes {span}",
            nodes,
            es,
            -1.0,
            next_order=-0.5,
            alternative=-0.5,
            detail="node spacing $h \\propto n^{-1/2}$ near 0; the kink at $u = 0$, midway between two nodes, leaves "
            "$O(h^2)$; next order one more power of $h$",
            y_noise=noise,
            variable="nodes",
        ),
        *rate_checks(
            f"ReLU $\\mathbb{{E}}[\\sigma'(u)\\sigma'(v)]$: mean quadrature error over 4 covariances vs nodes {span}",
            nodes,
            ed,
            -0.5,
            next_order=-0.5,
            alternative=-1.0,
            detail="a jump leaves $O(h)$ per row of nodes; it cancels between rows only where its line crosses them at "
            "spread-out phases, not along a grid direction ($c = -0.7$, $c \\approx 0.05$); next order one more power of $h$",
            y_noise=noise,
            variable="nodes",
        ),
    ]


@claim(
    CHAPTER,
    "The ReLU kernel is exact on the diagonal and for parallel inputs, 0 at zero norm, with finite gradients",
    equation="eq-relu-kernel",
)
def check_relu_exact_cases():
    key = jax.random.key(300)
    x = jax.random.normal(key, (1, 5))
    pts = jnp.concatenate([x, 3 * x, -2 * x, jnp.zeros_like(x)])  # x, parallel, anti-parallel, zero
    cov, v1, v2 = input_covariance(pts)
    m = _closed_form(cov, v1, v2, activation="relu")
    v = np.asarray(v1)
    s = np.sqrt(np.outer(v, v))
    # exact values: θ = 0 for (x, 3x), θ = π for (x, -2x); zero norm gives 0
    want_sigma = np.array([[s[0, 0] / 2, s[0, 1] / 2, 0.0, 0.0]])
    want_dot = np.array([[0.5, 0.5, 0.0, 0.25]])
    depth = 6
    deep = nngp_kernel(pts, depth=depth)
    # gradients: at the degenerate inputs and at generic ones (y), in one input set
    y = jax.random.normal(jax.random.key(301), (3, 5))
    allp = jnp.concatenate([pts, y])
    fsum = jax.jit(lambda p: jnp.sum(nngp_kernel(p, depth=3)))  # one compilation each for it and its gradient
    grads = jax.jit(jax.grad(fsum))(allp)
    h = 1e-3  # truncation (~h²) dominates rounding (~eps/h = 2e-13): stable printed digits
    e = jnp.zeros_like(allp).at[5, 2].set(h)
    fd = (fsum(allp + e) - fsum(allp - e)) / (2 * h)
    return [
        check_close(
            "$\\mathbb{E}[\\sigma(u)\\sigma(v)]$ at $(x, x)$, $(x, 3x)$, $(x, -2x)$, $(x, 0)$ vs exact values",
            m.sigma[:1],
            want_sigma,
            atol=rounding(),
            detail="rounding",
        ),
        check_close(
            "$\\mathbb{E}[\\sigma'(u)\\sigma'(v)]$ at the same pairs vs 1/2, 1/2, 0, 1/4",
            m.sigma_dot[:1],
            want_dot,
            atol=rounding(),
            detail="rounding",
        ),
        check_close(
            f"$\\Sigma^{{({depth})}}(x, x)$ vs $\\lVert x\\rVert^2/(n_0 2^{{{depth - 1}}})$ ($\\beta = 0$)",
            jnp.diagonal(deep)[:3],
            np.asarray(v[:3]) / 2 ** (depth - 1),
            atol=rounding(),
            detail="rounding",
        ),
        check_close(
            "gradients of $\\Sigma^{(3)}$ at these degenerate inputs: count of non-finite entries",
            float(jnp.sum(~jnp.isfinite(grads))),
            0.0,
            atol=0,
        ),
        check_close(
            "$\\partial(\\sum \\Sigma^{(3)})/\\partial x$ by autodiff vs central difference ($h = 10^{-3}$) at a generic "
            "input",
            grads[5, 2],
            fd,
            atol=1e-5,
            detail="truncation $h^2 \\lvert f'''\\rvert/6 < 2 \\cdot 10^{-6}$, plus rounding "
            "$\\epsilon/h \\approx 2 \\cdot 10^{-13}$",
        ),
    ]


@claim(
    CHAPTER,
    "Price's theorem: $\\partial \\mathbb{E}[\\sigma(u)\\sigma(v)]/\\partial \\operatorname{cov} = "
    "\\mathbb{E}[\\sigma'(u)\\sigma'(v)]$ (autodiff of the closed forms)",
    equation="eq-sigma-dot",
)
def check_price_theorem():
    cov, v1, v2 = _case_arrays()
    out = []
    for act in CLOSED_FORMS:
        d = jax.grad(lambda c: jnp.sum(jnp.diagonal(_closed_form(c, v1, v2, activation=act).sigma)))(cov)
        out.append(
            check_close(
                f"{act}: $\\partial \\mathbb{{E}}[\\sigma(u)\\sigma(v)]/\\partial \\operatorname{{cov}}$ vs "
                "$\\mathbb{E}[\\sigma'(u)\\sigma'(v)]$",
                jnp.diagonal(d),
                jnp.diagonal(_closed_form(cov, v1, v2, activation=act).sigma_dot),
                atol=rounding(),
                detail="rounding",
            )
        )
    return out
