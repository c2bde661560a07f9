"""Chapter 6 -- Gaussian processes: the chapter's toy problem, studies and claims.

The chapter checks, with the library's GP routines (:mod:`ntkbook.gp`), that prior samples have
the kernel as covariance, that conditioning a joint Gaussian gives the posterior formula (sympy,
explicit inverses, and a Monte Carlo regression of sampled unknowns on sampled observations), that
the noise-free posterior interpolates and the noisy one does not, that the point prediction is the
posterior mean, and that the log marginal likelihood is the multivariate normal log-density.

The notebook ``book/06-gaussian-processes.ipynb`` imports this module as ``ch``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from .. import gp
from ..claims import check_close, check_monte_carlo, check_symbolic, claim, rounding
from ..validate import as_array, positive_int, prng_key

CHAPTER = "06-gaussian-processes"

__all__ = [
    "CHAPTER",
    "check_covariance_stderr_formula",
    "check_log_marginal_likelihood",
    "check_noise_free_interpolation",
    "check_noisy_posterior",
    "check_posterior_matches_formula",
    "check_posterior_regression",
    "check_posterior_samples",
    "check_posterior_symbolic",
    "check_prediction_is_mean",
    "check_prior_covariance",
    "check_similar_inputs_close_outputs",
    "regression_check",
    "risk_check",
    "symbolic_conditional",
    "toy_function",
    "toy_inputs",
]


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
# (cond < 1e3, entries O(1)), so rounding(stages=1000) = 1e-10 is generous for rounding and far below any formula error.


def _joint_kernel(x_train, x_test, **kw):
    x = jnp.concatenate([x_train, x_test])
    return gp.rbf_kernel(x, x, **kw)


def _standard_gaussian_moment(k: int) -> int:
    # E[z^k] for z ~ N(0, 1): 0 for odd k, (k-1)!! for even k.
    return 0 if k % 2 else int(np.prod(np.arange(k - 1, 0, -2))) if k else 1


def _gaussian_expectation(expr, zs):
    """E[expr] for a polynomial ``expr`` in independent standard normals ``zs`` (exact, sympy)."""
    import sympy as sp

    poly = sp.Poly(sp.expand(expr), *zs)
    return sp.Add(*[c * sp.Mul(*[_standard_gaussian_moment(k) for k in mon]) for mon, c in poly.terms()])


@claim(
    CHAPTER,
    "The variance of a sample-covariance entry of $\\mathcal{N}(0, K)$ samples is $(K_{ii} K_{jj} + K_{ij}^2)/S$",
    equation="eq-gp-cov-stderr",
)
def check_covariance_stderr_formula():
    import sympy as sp

    a, c = sp.symbols("a c", positive=True)
    b = sp.symbols("b", real=True)
    z1, z2 = sp.symbols("z1 z2", real=True)
    # Any bivariate N(0, K) is (f_i, f_j) = (a z1, b z1 + c z2): K_ii = a^2, K_ij = a b, K_jj = b^2 + c^2.
    fi, fj = a * z1, b * z1 + c * z2
    Kii, Kij, Kjj = (
        _gaussian_expectation(fi**2, (z1, z2)),
        _gaussian_expectation(fi * fj, (z1, z2)),
        _gaussian_expectation(fj**2, (z1, z2)),
    )
    var_product = _gaussian_expectation((fi * fj) ** 2, (z1, z2)) - Kij**2
    var_square = _gaussian_expectation(fi**4, (z1, z2)) - Kii**2
    return [
        check_symbolic(
            "sympy: $\\operatorname{Var}(f_i f_j) = K_{ii} K_{jj} + K_{ij}^2$ (from moments of independent normals)",
            var_product,
            Kii * Kjj + Kij**2,
        ),
        check_symbolic("sympy: the diagonal case $\\operatorname{Var}(f_i^2) = 2 K_{ii}^2$", var_square, 2 * Kii**2),
    ]


@claim(
    CHAPTER,
    "GP prior samples have covariance $K_{ij} = k(x_i, x_j)$",
    equation="eq-gp-prior",
    source_holds=True,
    where="Basics, Gaussian processes",
    source_says="each entry of the covariance matrix is the kernel evaluated at the pair of inputs",
)
def check_prior_covariance():
    x = np.linspace(-2.0, 2.0, 6)
    K = gp.rbf_kernel(x, x, lengthscale=1.0)
    S = 20_000
    f = gp.sample_prior(jax.random.key(0), K, S)
    A = gp.psd_factor(K)
    return [
        check_close(
            "eigh factor: $A A^\\top$ vs $K$ (6 inputs, RBF, $\\ell = 1$)", A @ A.T, K, atol=rounding(stages=1000)
        ),
        check_monte_carlo(
            f"sample covariance of $S = {S}$ prior draws vs $K$ ($6 \\times 6$ entries)",
            gp.second_moment(f),
            K,
            gp.covariance_stderr(K, S),
        ),
    ]


@claim(
    CHAPTER,
    "Inputs the kernel calls similar get close function values: "
    "$\\mathbb{E}[(f(x) - f(x'))^2] = K(x,x) + K(x',x') - 2K(x,x')$",
    equation="eq-gp-similar",
    source_holds=True,
    where="Basics, Gaussian processes",
    source_says="inputs the kernel deems similar should have close function outputs",
)
def check_similar_inputs_close_outputs():
    x = np.array([0.0, 0.1, 0.5, 1.0, 2.0, 4.0])  # distances 0.1 ... 4 from x = 0
    K = gp.rbf_kernel(x, x, lengthscale=1.0)
    S = 20_000
    f = np.asarray(gp.sample_prior(jax.random.key(1), K, S))
    K = np.asarray(K)
    diff2 = (f[:, 1:] - f[:, :1]) ** 2
    expected = K[0, 0] + np.diag(K)[1:] - 2 * K[0, 1:]
    # f(x') - f(x) ~ N(0, d) with d the expected value: Var((f(x') - f(x))^2) = 2 d^2.
    return [
        check_monte_carlo(
            f"mean of $(f(x') - f(0))^2$ over $S = {S}$ prior draws, $x' = 0.1, \\dots, 4$",
            np.mean(diff2, axis=0),
            expected,
            np.sqrt(2 / S) * expected,
        ),
        check_close(
            "$K(0,0) + K(x',x') - 2K(0,x')$ increases with $\\lvert x'\\rvert$ (its differences are $\\ge 0$)",
            np.minimum(np.diff(expected), 0.0),
            np.zeros(4),
            atol=0.0,
        ),
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


@claim(
    CHAPTER,
    "Conditioning a joint Gaussian: $p(f_*, y) / p(y)$ is $\\mathcal{N}(f_*; K_*^\\top K^{-1} y, K_{**} - K_*^\\top K^{-1} K_*)$",
    equation="eq-gp-posterior",
)
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
        out.append(
            check_symbolic(
                f"sympy, {n_obs} observed + 1 unknown: $v^\\top \\Sigma^{{-1}} v - y^\\top K^{{-1}} y = (f - \\mu)^2 / s^2$",
                quad_joint - quad_marginal,
                (f - mu) ** 2 / s2,
            )
        )
        out.append(
            check_symbolic(
                f"sympy, {n_obs} observed + 1 unknown: $\\det \\Sigma = \\det K \\cdot s^2$ (Schur complement)",
                Sigma.det(),
                k.det() * s2,
            )
        )
    return out


@functools.partial(jax.jit, static_argnums=(1, 2))
def _random_spd(key, count: int, n: int, shift: float = 0.5) -> jax.Array:
    """``count`` random symmetric positive definite ``(n, n)`` matrices ``B B^T / n + shift I``
    (eigenvalues ``>= shift``), vmapped over split keys: shape ``(count, n, n)``."""

    def one(k):
        B = jax.random.normal(k, (n, n))
        return B @ B.T / n + shift * jnp.eye(n)

    return jax.vmap(one)(jax.random.split(key, count))


@claim(
    CHAPTER,
    "gp.posterior (Cholesky solves) equals the sympy formula and the explicit-inverse formula",
    equation="eq-gp-posterior",
)
def check_posterior_matches_formula():
    import sympy as sp

    k, q, c, y, f, mu, s2 = symbolic_conditional(2)
    syms = [k[0, 0], k[0, 1], k[1, 1], q[0], q[1], c, y[0], y[1]]
    formula = sp.lambdify(syms, [mu, s2], modules="jax")
    # 16 random joint 3 x 3 covariances (2 observed + 1 unknown) and observations, vmapped.
    kS, kY = jax.random.split(jax.random.key(2))
    Sig = _random_spd(kS, 16, 3)
    ys = jax.random.normal(kY, (16, 2))
    ours = jax.jit(jax.vmap(lambda S, yy: gp.posterior(S[:2, :2], S[:2, 2:], S[2:, 2:], yy)))(Sig, ys)
    ref = jax.jit(
        jax.vmap(lambda S, yy: jnp.stack(formula(S[0, 0], S[0, 1], S[1, 1], S[0, 2], S[1, 2], S[2, 2], yy[0], yy[1])))
    )(Sig, ys)
    # A larger case against the textbook formula with an explicit inverse (numpy, LU), with noise.
    x = np.linspace(-3, 3, 12)
    xs = np.linspace(-3.5, 3.5, 7)
    Kt, Kc, Ks = gp.rbf_kernel(x, x), gp.rbf_kernel(x, xs), gp.rbf_kernel(xs, xs)
    yy = toy_function(x)
    noise = 0.01
    post = gp.posterior(Kt, Kc, Ks, yy, noise)
    Kinv = np.linalg.inv(np.asarray(Kt) + noise * np.eye(12))
    return [
        check_close(
            "posterior mean vs sympy $q^\\top K^{-1} y$, 16 random $2+1$ cases",
            ours.mean[:, 0],
            ref[:, 0],
            atol=rounding(stages=1000),
        ),
        check_close(
            "posterior variance vs sympy $c - q^\\top K^{-1} q$, 16 random $2+1$ cases",
            ours.cov[:, 0, 0],
            ref[:, 1],
            atol=rounding(stages=1000),
        ),
        check_close(
            "posterior mean vs $K_*^\\top (K + \\sigma^2 I)^{-1} y$ (numpy inverse), 12 train / 7 test, $\\sigma^2 = 0.01$",
            post.mean,
            np.asarray(Kc).T @ Kinv @ np.asarray(yy),
            atol=rounding(stages=1000),
        ),
        check_close(
            "posterior cov vs $K_{**} - K_*^\\top (K + \\sigma^2 I)^{-1} K_*$ (numpy inverse)",
            post.cov,
            np.asarray(Ks) - np.asarray(Kc).T @ Kinv @ np.asarray(Kc),
            atol=rounding(stages=1000),
        ),
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
    F = gp.sample_prior(kf, Kj, num_samples)
    Y = F[:, :n] + jnp.sqrt(noise) * jax.random.normal(ke, (num_samples, n))
    T = F[:, n:]
    G = Y.T @ Y
    B_hat = jnp.linalg.solve(G, Y.T @ T)
    R = T - Y @ B_hat
    dof = num_samples - n
    R_hat = R.T @ R / dof
    # Given Y, the OLS coefficients of column j are Gaussian with covariance R_jj (Y^T Y)^-1.
    B_se = jnp.sqrt(jnp.outer(jnp.diag(jnp.linalg.inv(G)), jnp.diag(R_hat)))
    post = gp.posterior(Kj[:n, :n], Kj[:n, n:], Kj[n:, n:], jnp.zeros(n), noise)
    C = post.cov
    # The residual covariance is Wishart(C, dof) / dof: entry variance (C_ii C_jj + C_ij^2) / dof.
    R_se = gp.covariance_stderr(C, dof)
    B = jsl.cho_solve((gp.cholesky_factor(Kj[:n, :n], noise), True), Kj[:n, n:])
    return B_hat, B_se, B, R_hat, R_se, C


@claim(
    CHAPTER,
    "Regressing sampled unknowns on sampled observations recovers $K_*^\\top K^{-1}$ and the posterior covariance",
    equation="eq-gp-posterior",
)
def check_posterior_regression():
    out = []
    S = 50_000
    for noise, seed in ((0.0, 3), (0.1, 4)):
        B_hat, B_se, B, R_hat, R_se, C = regression_check(jax.random.key(seed), noise, S)
        out.append(
            check_monte_carlo(
                f"regression coefficients vs $(K + {noise:g} I)^{{-1}} K_*$, $S = {S}$, 3 observed / 2 unknown",
                B_hat,
                B,
                B_se,
            )
        )
        out.append(
            check_monte_carlo(
                f"residual covariance vs $K_{{**}} - K_*^\\top (K + {noise:g} I)^{{-1}} K_*$, $S = {S}$", R_hat, C, R_se
            )
        )
    return out


@claim(
    CHAPTER,
    "Noise-free, the posterior interpolates: mean = y and covariance = 0 at the observed inputs",
    equation="eq-gp-posterior",
)
def check_noise_free_interpolation():
    x = toy_inputs(jax.random.key(5))
    K = gp.rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    post = gp.posterior(K, K, K, y)
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
        check_close(
            f"posterior mean at the {n} training inputs vs $y$ (noise 0, $\\mathrm{{cond}}\\, K$ = {cond:.0e})",
            post.mean,
            y,
            atol=tol_mean,
            detail="tol $= 10 n^2 \\varepsilon \\max\\lvert K\\rvert \\max\\lvert K^{-1} y\\rvert$ (backward stability of Cholesky)",
        ),
        check_close(
            f"posterior covariance at the {n} training inputs vs 0",
            post.cov,
            np.zeros((n, n)),
            atol=tol_cov,
            detail="tol $= 10 n^2 \\varepsilon \\max\\lvert K\\rvert$ (Cholesky backward error, then a triangular solve and a "
            "product)",
        ),
    ]


@claim(
    CHAPTER,
    "With noise $\\sigma^2 I$ the posterior mean does not interpolate: "
    "$y - \\text{mean} = \\sigma^2 (K + \\sigma^2 I)^{-1} y$",
    equation="eq-gp-noisy",
)
def check_noisy_posterior():
    x = toy_inputs(jax.random.key(5))
    K = gp.rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    noise = 0.1
    post = gp.posterior(K, K, K, y, noise)
    y = np.asarray(y)
    resid = noise * np.linalg.solve(np.asarray(K) + noise * np.eye(x.shape[0]), y)
    return check_close(
        "$y$ minus the posterior mean vs $\\sigma^2 (K + \\sigma^2 I)^{-1} y$ (numpy solve) at the 8 training inputs, "
        "$\\sigma^2 = 0.1$",
        y - np.asarray(post.mean),
        resid,
        atol=rounding(stages=1000),
    )


def _toy_posterior(noise: float, m: int = 5):
    x = toy_inputs(jax.random.key(5))
    xs = np.linspace(-2.5, 2.5, m)
    kw = dict(lengthscale=0.7)
    return x, xs, gp.rbf_kernel(x, x, **kw), gp.rbf_kernel(x, xs, **kw), gp.rbf_kernel(xs, xs, **kw), toy_function(x)


@claim(
    CHAPTER,
    "Samples from the conditional distribution reproduce its mean and covariance",
    equation="eq-gp-posterior",
    source_holds=True,
    where="Basics, Gaussian processes",
    source_says="predictions for unknown points come from the conditional distribution given the observed ones",
)
def check_posterior_samples():
    noise = 0.01
    x, xs, Kt, Kc, Ks, y = _toy_posterior(noise)
    S = 20_000
    mean, cov = map(np.asarray, gp.posterior(Kt, Kc, Ks, y, noise))
    f = np.asarray(gp.sample_posterior(jax.random.key(6), Kt, Kc, Ks, y, S, noise))
    centred = f - mean
    d = np.diag(cov)
    return [
        check_monte_carlo(
            f"mean of $S = {S}$ posterior draws vs the posterior mean ({len(xs)} test inputs)",
            f.mean(axis=0),
            mean,
            np.sqrt(d / S),
        ),
        check_monte_carlo(
            f"covariance of $S = {S}$ posterior draws about the mean vs the posterior covariance",
            centred.T @ centred / S,
            cov,
            np.sqrt((np.outer(d, d) + cov**2) / S),
        ),
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
    F = gp.sample_prior(kf, Kj, num_samples)
    Y = F[:, :n] + jnp.sqrt(noise) * jax.random.normal(ke, (num_samples, n))
    T = F[:, n:]
    L = gp.cholesky_factor(Kj[:n, :n], noise)
    B = jsl.cho_solve((L, True), Kj[:n, n:])  # posterior mean is B^T y (linear in y)
    C = Kj[n:, n:] - Kj[:n, n:].T @ B
    means = Y @ B
    draws = means + gp.sample_prior(kp, C, num_samples)  # one posterior draw per data set
    return jnp.mean((T - means) ** 2, axis=0), jnp.mean((T - draws) ** 2, axis=0), jnp.diag(C)


@claim(
    CHAPTER,
    "The point prediction is the posterior mean: a single posterior draw has twice its mean squared error",
    equation="eq-gp-posterior",
)
def check_prediction_is_mean():
    S = 50_000
    mse_mean, mse_draw, c = map(np.asarray, risk_check(jax.random.key(7), S))
    # The error of the mean is N(0, c), of a draw N(0, 2c): Var of a squared N(0, v) is 2 v^2.
    return [
        check_monte_carlo(
            f"MSE of the posterior mean vs the posterior variance, $S = {S}$ data sets",
            mse_mean,
            c,
            np.sqrt(2 / S) * c,
        ),
        check_monte_carlo(
            f"MSE of one posterior draw vs $2\\times$ the posterior variance, $S = {S}$",
            mse_draw,
            2 * c,
            np.sqrt(2 / S) * 2 * c,
        ),
    ]


@claim(
    CHAPTER,
    "log_marginal_likelihood (Cholesky) equals the multivariate normal log-density (scipy)",
    equation="eq-gp-lml",
)
def check_log_marginal_likelihood():
    from scipy.stats import multivariate_normal

    x = toy_inputs(jax.random.key(5))
    K = gp.rbf_kernel(x, x, lengthscale=0.7)
    y = toy_function(x)
    out = []
    for noise in (0.0, 0.1):
        Ky = np.asarray(K) + noise * np.eye(8)
        ref = multivariate_normal(mean=np.zeros(8), cov=Ky).logpdf(np.asarray(y))
        # scipy uses eigh, we use Cholesky: both solve with K_y, so they differ by ~ cond(K_y) eps |y^T K_y^-1 y|.
        tol = 10 * float(np.linalg.cond(Ky)) * float(np.finfo(np.float64).eps) * max(1.0, abs(float(ref)))
        out.append(
            check_close(
                f"$\\log \\mathcal{{N}}(y; 0, K + {noise:g} I)$ vs scipy.stats.multivariate_normal.logpdf, 8 points",
                gp.log_marginal_likelihood(K, y, noise),
                ref,
                atol=tol,
                detail="tol $= 10\\, \\mathrm{cond}(K_y)\\, \\varepsilon \\max(1, \\lvert\\log p\\rvert)$",
            )
        )
    return out
