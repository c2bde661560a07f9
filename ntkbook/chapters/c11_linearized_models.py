"""Chapter 11 -- linearized models (``book/11-linearized-models.ipynb``).

The chapter's set-up (seven training and 48 test inputs on a circle in ``R^2``, :func:`toy_problem`;
a two-layer erf network with ``β = 0.5``, :func:`network`, its empirical and infinite-width
kernels), its seeded studies -- real networks against their linearization and the infinite-width
closed form over widths (:func:`width_sweep`), an ensemble of trained networks against the NTK-GP
(:func:`ensemble`) -- and its claims. The linearized model, training loop and closed forms are the
library's, :mod:`ntkbook.linearized`.

References: :cite:`lee2019wide`, :cite:`jacot2018ntk`, :cite:`weng2022ntk` (Linearized models).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from .. import infinite_ntk as _inf
from .. import mlp as _mlp
from .. import ntk as _ntk
from ..claims import (
    CheckResult,
    check_close,
    check_definitional,
    check_monte_carlo,
    claim,
    rate_checks,
    rounding,
    shown,
)
from ..linearized import linearize, mse_dynamics, mse_loss, ntk_gp, spectral_factors, train
from ..validate import positive_int

CHAPTER = "11-linearized-models"

__all__ = [
    "CHAPTER",
    "ACTIVATION",
    "BETA",
    "RADIUS",
    "N_TRAIN",
    "N_TEST",
    "LEARNING_RATE",
    "DEPTH",
    "WIDTHS",
    "SWEEP_SEEDS",
    "SWEEP_STEPS",
    "ENSEMBLE_WIDTH",
    "ENSEMBLE_SEEDS",
    "ENSEMBLE_LR",
    "empirical_kernels",
    "ensemble",
    "infinite_kernels",
    "init_network",
    "init_networks",
    "network",
    "toy_problem",
    "width_sweep",
    "check_discrete_closed_form",
    "check_eigen_modes",
    "check_flow_closed_form",
    "check_gradient_transpose_as_written",
    "check_linearize",
    "check_linearized_as_written",
    "check_mse_gradient",
    "check_mse_gradient_as_written",
    "check_ntk_gp_ensemble",
    "check_parameter_closed_form",
    "check_separation_as_written",
    "check_single_step_as_written",
    "check_source_closed_form_as_written",
    "check_source_second_form_as_written",
    "check_width_gap_infinite",
    "check_width_gap_linearized",
    "discriminating_direction",
    "nngp_posterior",
    "ENSEMBLE_RADIUS",
    "ENSEMBLE_DIRECTION_FLOOR",
    "LINEARIZE_DIRECTIONS",
]


# --------------------------------------------------------------------------- the chapter's set-up

ACTIVATION = "erf"
BETA = 0.5
RADIUS = 2.0
N_TRAIN = 7
N_TEST = 48
LEARNING_RATE = 1.5
DEPTH = 2  # affine layers: one hidden layer


def toy_problem(n_train: int = N_TRAIN, n_test: int = N_TEST) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Inputs on a circle of radius 2 in R^2 (``||x||²/n_0 = 2``), targets ``y(φ) = sin 2φ + ½ cos φ``.

    Returns ``(x, y, x_test, y_test)`` of shapes ``(N, 2), (N, 1), (M, 2), (M, 1)``; training
    angles ``2π i/N + 0.3``, test angles ``2π j/M`` (none coincides with a training angle).
    """
    return _toy_problem(positive_int(n_train, "n_train"), positive_int(n_test, "n_test"))


@functools.partial(jax.jit, static_argnums=(0, 1))  # one compilation, not one per operation and shape
def _toy_problem(n_train, n_test):
    def on_circle(phi):
        return RADIUS * jnp.stack([jnp.cos(phi), jnp.sin(phi)], 1), (jnp.sin(2 * phi) + 0.5 * jnp.cos(phi))[:, None]

    x, y = on_circle(jnp.linspace(0, 2 * jnp.pi, n_train, endpoint=False) + 0.3)
    xt, yt = on_circle(jnp.linspace(0, 2 * jnp.pi, n_test, endpoint=False))
    return x, y, xt, yt


def network(params: Any, x: jax.Array) -> jax.Array:
    """The chapter's network: :func:`ntkbook.mlp.apply` with erf and ``β = 0.5``."""
    return _mlp.apply(params, x, activation=ACTIVATION, beta=BETA)


def init_network(key: jax.Array, width: int, n_out: int = 1) -> list:
    """``(2, width, n_out)`` parameters of :func:`network`."""
    return _mlp.init(key, (2, width, n_out))


def init_networks(keys: jax.Array, width: int, n_out: int = 1) -> list:
    """:func:`init_network` for a batch of keys, stacked on a leading axis (``jax.vmap`` of it, the same
    numbers; :func:`ntkbook.mlp.init_batch`)."""
    return _mlp.init_batch(keys, (2, width, n_out))


def empirical_kernels(params: Any, x: jax.Array, x_test: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Empirical NTK ``K(X, X)`` and ``K(X*, X)`` of :func:`network` (traces over the single output)."""
    cfg = dict(activation=ACTIVATION, beta=BETA)
    return (
        _ntk.empirical_ntk(network, params, x, output="trace", mlp_config=cfg),
        _ntk.empirical_ntk(network, params, x_test, x, output="trace", mlp_config=cfg),
    )


def infinite_kernels(x1: jax.Array, x2: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Infinite-width ``(Σ, Θ)`` of :func:`network` (:func:`ntkbook.infinite_ntk.infinite_width_kernels`)."""
    return _inf.infinite_width_kernels(x1, x2, depth=DEPTH, activation=ACTIVATION, beta=BETA)


def _flat_jacobian(apply_fn, params, x):
    """``J = ∂f(X)/∂θ`` flattened to ``(N n_L, P)`` (small networks only), with the flat ``θ`` and its unravel."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return _jacobian_matrix(apply_fn, params, x), flat, unravel


# The claims' autodiff runs compiled, one program per function and shape: run eagerly, every
# primitive of a gradient or Jacobian would be compiled on its own (tens of milliseconds each).
@functools.partial(jax.jit, static_argnums=0)
def _jacobian_matrix(apply_fn, params, x):
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return jax.jacrev(lambda p: apply_fn(unravel(p), x).reshape(-1))(flat)


@functools.partial(jax.jit, static_argnums=0)
def _loss_gradients(apply_fn, params, x, y):
    """``∇_θ L`` flattened ``(P,)`` and ``∇_f L`` ``(N, n_L)`` of the MSE loss, by autodiff."""
    g_theta = jax.flatten_util.ravel_pytree(jax.grad(lambda p: mse_loss(apply_fn(p, x), y))(params))[0]
    return g_theta, jax.grad(lambda out: mse_loss(out, y))(apply_fn(params, x))


# Two float64 computations of the same quantity by different routes (eigendecomposition vs a loop
# of steps, jvp vs an explicit Jacobian): they differ by accumulated rounding, a few hundred ulps
# of O(1) numbers over ~100 steps: rounding(stages=100).
# The remainder f - f_lin is a difference of O(1) outputs, each a few eps: 1e-14 bounds its rounding.
_REMAINDER_NOISE = 1e-14
# Independent random directions per ε in the remainder-rate check.
LINEARIZE_DIRECTIONS = 64
# scipy's DOP853 with rtol = 1e-12, atol = 1e-13 on O(1) quantities over the integration window.
_SOLVER = 1e-9


# --------------------------------------------------------------------------- claims: the loss gradient


def _small_setup(width: int = 16, key: int = 0):
    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(key), width)
    return x, y, xt, yt, p0


@claim(
    CHAPTER,
    "MSE loss: the source's gradient $\\nabla_\\theta \\mathcal{L}(\\theta) = f(\\mathcal{X}; \\theta) - \\mathcal{Y}$",
    equation="eq-mse-gradient",
    source_holds=False,
    where="Linearized models, 'In a simple case when the empirical loss is an MSE loss'",
    source_says="∇_θ L(θ) = f(X; θ) - Y",
    truth="∇_f L = (f(X; θ) - Y)/N (a vector over the N n_L outputs) and ∇_θ L = ∇_θ f(X; θ) (f(X; θ) - Y)/N "
    "(a P-vector), for L = (1/N) Σ ½||f - y||²",
)
def check_mse_gradient_as_written():
    x, y, _, _, p0 = _small_setup()
    f = network(p0, x)
    g_theta, g_f = _loss_gradients(network, p0, x, y)
    return [
        check_definitional(
            "shape of $\\nabla_\\theta \\mathcal{L}$ $(P,)$ vs shape of $f(\\mathcal{X}) - \\mathcal{Y}$ $(N n_L,)$",
            g_theta.shape,
            ((f - y).size,),
            expect=False,
            detail=f"$P = {g_theta.size}$, $N n_L = {(f - y).size}$",
        ),
        check_close(
            "even read as $\\nabla_f \\mathcal{L}$: autodiff $\\nabla_f \\mathcal{L}$ vs $f(\\mathcal{X}) - \\mathcal{Y}$ ($N = 7$)",
            g_f,
            f - y,
            atol=rounding(stages=100),
            expect=False,
        ),
    ]


@claim(
    CHAPTER,
    "MSE loss: $\\nabla_f \\mathcal{L} = (f - \\mathcal{Y})/N$ and $\\nabla_\\theta \\mathcal{L} = J^\\top (f - \\mathcal{Y})/N$",
    equation="eq-mse-gradient",
)
def check_mse_gradient():
    x, y, _, _, p0 = _small_setup()
    f = network(p0, x)
    n = x.shape[0]
    g_theta, g_f = _loss_gradients(network, p0, x, y)
    jac, _, _ = _flat_jacobian(network, p0, x)
    return [
        check_close(
            "autodiff $\\nabla_f \\mathcal{L}$ vs $(f(\\mathcal{X}) - \\mathcal{Y})/N$",
            g_f,
            (f - y) / n,
            atol=rounding(stages=100),
        ),
        check_close(
            "autodiff $\\nabla_\\theta \\mathcal{L}$ vs $J^\\top (f(\\mathcal{X}) - \\mathcal{Y})/N$ with the explicit Jacobian",
            g_theta,
            jac.T @ (f - y).reshape(-1) / n,
            atol=rounding(stages=100),
        ),
    ]


# --------------------------------------------------------------------------- claims: the linearized model


@claim(
    CHAPTER,
    "The linearized model as written: $f(\\theta_0) + \\nabla_\\theta f(\\theta_0)(\\theta - \\theta_0)$",
    equation="eq-linearized",
    source_holds=False,
    where="Linearized models, definition of f^lin",
    source_says="f^lin(θ(t)) = f(θ(0)) + ∇_θ f(θ(0)) (θ(t) - θ(0))",
    truth="with ∇_θ f = J^T (P x n_L) the product needs a transpose: f^lin = f(θ(0)) + ∇_θ f(θ(0))^T (θ(t) - θ(0)) "
    "= f(θ(0)) + J (θ(t) - θ(0))",
)
def check_linearized_as_written():
    x, _, _, _, p0 = _small_setup()
    n_out = 2
    p0 = init_network(jax.random.key(1), 16, n_out)
    grad_f = _jacobian_matrix(network, p0, x[:1]).T  # ∇_θ f = J^T, (P, n_L)
    P = grad_f.shape[0]
    return check_definitional(
        "inner dimensions of $\\nabla_\\theta f$ ($P \\times n_L$) times $\\theta - \\theta_0$ ($P$): $n_L$ vs $P$",
        grad_f.shape[1],
        P,
        expect=False,
        detail=f"$P = {P}$, $n_L = {n_out}$",
    )


@claim(
    CHAPTER,
    "linearize(): $f^{\\mathrm{lin}} = f(\\theta_0) + J (\\theta - \\theta_0)$ by one jvp, equal to the explicit "
    "Jacobian product; $f - f^{\\mathrm{lin}}$ is second order",
    equation="eq-linearized",
)
def check_linearize():
    x, _, xt, _, _ = _small_setup()
    p0 = init_network(jax.random.key(1), 16, 2)
    lin = linearize(network, p0)
    jac, flat0, unravel = _flat_jacobian(network, p0, xt)
    d = _mlp.standard_normal(jax.random.key(2), flat0.shape)
    d = d / jnp.linalg.norm(d)
    p1 = unravel(flat0 + 0.3 * d)
    explicit = network(p0, xt) + (jac @ (0.3 * d)).reshape(xt.shape[0], 2)
    # The remainder along independent random unit directions, fresh at every ε (key 6 split per ε and
    # direction): the book's rate criterion (chapter 4), expected exponent 2, next term relative size ∝ ε.
    eps = np.logspace(-3, -1, 7)
    dirs = jax.vmap(jax.vmap(lambda k: _mlp.standard_normal(k, flat0.shape)))(
        jax.random.split(jax.random.key(6), (eps.size, LINEARIZE_DIRECTIONS))
    )
    dirs = dirs / jnp.linalg.norm(dirs, axis=-1, keepdims=True)

    def remainder(e, u):
        p = unravel(flat0 + e * u)
        return jnp.max(jnp.abs(network(p, xt) - lin(p, xt)))

    rem = np.asarray(jax.jit(jax.vmap(jax.vmap(remainder, in_axes=(None, 0))))(jnp.asarray(eps), dirs))
    return [
        check_close(
            "jvp-based $f^{\\mathrm{lin}}$ vs $f(\\theta_0) + J \\Delta\\theta$ with the explicit Jacobian (48 inputs, 2 outputs)",
            lin(p1, xt),
            explicit,
            atol=rounding(stages=100),
        ),
        *rate_checks(
            "remainder $\\max\\lvert f(\\theta_0 + \\varepsilon u) - f^{\\mathrm{lin}}(\\theta_0 + \\varepsilon u)\\rvert$, "
            f"mean over {LINEARIZE_DIRECTIONS} directions per $\\varepsilon$, vs $\\varepsilon$ in $[10^{{-3}}, 10^{{-1}}]$",
            eps,
            rem,
            2.0,
            next_order=1.0,
            alternative=1.0,
            y_noise=_REMAINDER_NOISE,
            variable="\\varepsilon",
            detail="Taylor: the remainder is $O(\\varepsilon^2)$",
        ),
    ]


# --------------------------------------------------------------------------- claims: gradient descent on f_lin


@functools.cache
def _lin_gd(width: int = 256, steps: int = 100):
    """GD on the linearized network of one initialization, with its empirical kernels (cached)."""
    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(3), width)
    lin = linearize(network, p0)
    traj = train(lin, p0, x, y, learning_rate=LEARNING_RATE, steps=steps, x_test=xt, y_test=yt)
    k, kt = empirical_kernels(p0, x, xt)
    return x, y, xt, yt, p0, traj, k, kt


@claim(
    CHAPTER,
    "Gradient descent on $f^{\\mathrm{lin}}$ follows $f_t = \\mathcal{Y} + (I - \\eta K/N)^t (f_0 - \\mathcal{Y})$ exactly, "
    "on training and test inputs",
    equation="eq-discrete-closed-form",
)
def check_discrete_closed_form():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    tr, te = mse_dynamics(
        k,
        network(p0, x),
        y,
        learning_rate=LEARNING_RATE,
        times=traj.steps,
        kernel_test_train=kt,
        f0_test=network(p0, xt),
        discrete=True,
    )
    return [
        check_close(
            "GD on $f^{\\mathrm{lin}}$ vs $(I - \\eta K/N)^t$ closed form, train outputs, 100 steps, width 256",
            traj.train_outputs,
            tr,
            atol=rounding(stages=100),
        ),
        check_close(
            "GD on $f^{\\mathrm{lin}}$ vs closed form $K(\\mathbf{x}^*, \\mathcal{X}) K^{-1}(I - (I - \\eta K/N)^t)$, "
            "48 test outputs",
            traj.test_outputs,
            te,
            atol=rounding(stages=100),
        ),
    ]


@jax.jit
def _parameter_move(jac, r0, a, t):
    """``-J^T K^-1 (I - (I - a K)^t) r0`` with ``K = J J^T`` (``a = η/N``, ``t`` steps): ``(P,)``."""
    lam, v = jnp.linalg.eigh(jac @ jac.T)
    _, res = spectral_factors(lam, a, jnp.reshape(t, (1,)), discrete=True)
    return -jac.T @ (v @ (res[0] * (v.T @ r0)))


@claim(
    CHAPTER,
    "The parameters of $f^{\\mathrm{lin}}$ move by "
    "$\\theta_t - \\theta_0 = -J^\\top K^{-1} (I - (I - \\eta K/N)^t)(f_0 - \\mathcal{Y})$",
    equation="eq-parameter-closed-form",
)
def check_parameter_closed_form():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    jac, flat0, _ = _flat_jacobian(network, p0, x)
    predicted = _parameter_move(jac, (network(p0, x) - y)[:, 0], LEARNING_RATE / x.shape[0], float(traj.steps[-1]))
    moved = jax.flatten_util.ravel_pytree(traj.params)[0] - flat0
    return check_close(
        "$\\theta_{100} - \\theta_0$ of GD on $f^{\\mathrm{lin}}$ vs the closed form ($P = 1025$)",
        moved,
        predicted,
        atol=rounding(stages=100),
    )


@claim(
    CHAPTER,
    "One step: $\\theta(t) - \\theta(0) = -\\eta \\nabla_\\theta \\mathcal{L}(\\theta)$ holds for $t = 1$ only",
    equation="eq-parameter-closed-form",
    source_holds=False,
    where="Linearized models, first line of the gradient-descent derivation",
    source_says="θ(t) - θ(0) = -η ∇_θ L(θ)",
    truth="one step gives θ(1) - θ(0) = -η ∇_θ L(θ(0)); after t steps θ(t) - θ(0) = -η Σ_{s<t} ∇_θ L(θ(s)) "
    "(for gradient flow -η ∫_0^t ∇_θ L(θ(s)) ds)",
)
def check_single_step_as_written():
    x, y, xt, yt, p0, traj, k, kt = _lin_gd()
    lin = linearize(network, p0)
    grad = lambda p: _loss_gradients(lin, p, x, y)[0]  # noqa: E731
    flat0 = jax.flatten_util.ravel_pytree(p0)[0]
    one = train(lin, p0, x, y, learning_rate=LEARNING_RATE, steps=1).params
    moved = jax.flatten_util.ravel_pytree(traj.params)[0] - flat0
    return [
        check_close(
            "$t = 1$: $\\theta(1) - \\theta(0)$ vs $-\\eta \\nabla \\mathcal{L}(\\theta(0))$",
            jax.flatten_util.ravel_pytree(one)[0] - flat0,
            -LEARNING_RATE * grad(p0),
            atol=rounding(stages=100),
        ),
        check_close(
            "$t = 100$: $\\theta(t) - \\theta(0)$ vs $-\\eta \\nabla \\mathcal{L}(\\theta(0))$",
            moved,
            -LEARNING_RATE * grad(p0),
            atol=1e-3,
            relative=True,
            expect=False,
            detail="relative error, tolerance 0.1%",
        ),
        check_close(
            "$t = 100$: $\\theta(t) - \\theta(0)$ vs $-\\eta \\nabla \\mathcal{L}(\\theta(t))$",
            moved,
            -LEARNING_RATE * grad(traj.params),
            atol=1e-3,
            relative=True,
            expect=False,
            detail="relative error, tolerance 0.1%",
        ),
    ]


@claim(
    CHAPTER,
    "The gradient as $\\nabla_\\theta f(\\theta)^\\top \\nabla_f \\mathcal{L}$: the shapes do not chain",
    equation="eq-mse-gradient",
    source_holds=False,
    where="Linearized models, first line of the gradient-descent derivation",
    source_says="-η ∇_θ L(θ) = -η ∇_θ f(θ)^T ∇_f L",
    truth="with ∇_θ f of shape P x N n_L, ∇_θ L = ∇_θ f ∇_f L (no transpose), as in the NTK section",
)
def check_gradient_transpose_as_written():
    x, y, _, _, p0 = _small_setup()
    jac, _, _ = _flat_jacobian(network, p0, x)
    grad_f = jac.T  # ∇_θ f(X), (P, N n_L)
    return check_definitional(
        "inner dimensions of $\\nabla_\\theta f^\\top$ ($N n_L \\times P$) times $\\nabla_f \\mathcal{L}$ ($N n_L$): "
        "$P$ vs $N n_L$",
        grad_f.shape[0],
        grad_f.shape[1],
        expect=False,
        detail=f"$P = {grad_f.shape[0]}$, $N n_L = {grad_f.shape[1]}$",
    )


# --------------------------------------------------------------------------- claims: gradient flow


@functools.cache
def _flow_numeric(width: int = 32, t_end: float = 60.0, loss_scale: float = 1.0):
    """Integrate the *parameter* flow dθ/dt = -η ∇_θ (c L)(f_lin(θ)) numerically (scipy DOP853), ``c =
    loss_scale`` (1: the chapter's L = (1/N) Σ ½||f - y||²; N: the source's, whose gradient is f - Y), at 13
    times evenly spaced in ``[0, t_end]``.

    Independent of any kernel formula: it never forms K or an exponential.
    """
    from scipy.integrate import solve_ivp

    x, y, xt, yt = toy_problem()
    p0 = init_network(jax.random.key(4), width)
    lin = linearize(network, p0)
    flat0, unravel = jax.flatten_util.ravel_pytree(p0)
    rhs = jax.jit(
        lambda th: (
            -LEARNING_RATE
            * loss_scale
            * jax.flatten_util.ravel_pytree(jax.grad(lambda q: mse_loss(lin(q, x), y))(unravel(th)))[0]
        )
    )
    ts = np.linspace(0.0, t_end, 13)
    sol = solve_ivp(
        lambda t, th: np.asarray(rhs(jnp.asarray(th))),
        (0.0, t_end),
        np.asarray(flat0),
        method="DOP853",
        t_eval=ts,
        rtol=1e-12,
        atol=rounding(),
    )
    thetas = jnp.asarray(sol.y.T)
    outs, outs_t = jax.jit(jax.vmap(lambda th: (lin(unravel(th), x), lin(unravel(th), xt))))(thetas)
    k, kt = empirical_kernels(p0, x, xt)
    return x, y, xt, p0, ts, outs, outs_t, k, kt


def _expm_sym(k, s):
    lam, v = jnp.linalg.eigh(k)
    return (v * jnp.exp(s * lam)) @ v.T


@claim(
    CHAPTER,
    "Gradient flow of $f^{\\mathrm{lin}}$: $f_t = \\mathcal{Y} + e^{-\\eta K t/N}(f_0 - \\mathcal{Y})$, and the test "
    "outputs from the same kernel",
    equation="eq-flow-closed-form",
)
def check_flow_closed_form():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    tr, te = mse_dynamics(
        k, network(p0, x), y, learning_rate=LEARNING_RATE, times=ts, kernel_test_train=kt, f0_test=network(p0, xt)
    )
    return [
        check_close(
            "numerically integrated parameter flow vs $\\mathcal{Y} + e^{-\\eta K t/N}(f_0 - \\mathcal{Y})$, "
            "$t \\in [0, 60]$",
            outs,
            tr,
            atol=_SOLVER,
        ),
        check_close(
            "same, 48 test outputs vs "
            "$f_0(\\mathbf{x}^*) - K(\\mathbf{x}^*, \\mathcal{X}) K^{-1}(I - e^{-\\eta K t/N})(f_0 - \\mathcal{Y})$",
            outs_t,
            te,
            atol=_SOLVER,
        ),
    ]


@claim(
    CHAPTER,
    "The source's closed form $f = (f(\\theta_0) - \\mathcal{Y}) e^{-\\eta K t} + \\mathcal{Y}$ solves its own flow "
    "$df/dt = -\\eta K(f - \\mathcal{Y})$",
    equation="eq-flow-closed-form",
    source_holds=True,
    where="Linearized models, closed-form solution (first expression; source line 309), with the source's own MSE "
    "gradient f(X; θ) - Y (line 298: the loss without the 1/N, see the erratum there)",
)
def check_source_closed_form_as_written():
    # The source's own reading: ∇_f L = f - Y, i.e. L = ½ Σ ||f - y||² (N times the chapter's loss), so
    # df/dt = -ηK(f - Y). Integrate that parameter flow (N times faster than the chapter's) over [0, 60/N].
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric(loss_scale=float(N_TRAIN), t_end=60.0 / N_TRAIN)
    f0 = network(p0, x)[:, 0]
    row = jnp.stack([(f0 - y[:, 0]) @ _expm_sym(k, -LEARNING_RATE * t) + y[:, 0] for t in ts])
    col = jnp.stack([_expm_sym(k, -LEARNING_RATE * t) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    return [
        check_close(
            "row vector times $e^{-\\eta K t}$ vs $e^{-\\eta K t}$ times column ($K$ symmetric)",
            row,
            col,
            atol=rounding(stages=100),
        ),
        check_close(
            "source closed form $(f(\\theta_0) - \\mathcal{Y}) e^{-\\eta K t} + \\mathcal{Y}$ vs the integrated flow of "
            "$\\mathcal{L} = \\frac12 \\sum \\lVert f - y\\rVert^2$, $t \\in [0, 60/N]$",
            row,
            outs[:, :, 0],
            atol=_SOLVER,
        ),
    ]


@claim(
    CHAPTER,
    "The source's second expression $f(\\theta_0) e^{-K t} + (I - e^{-\\eta K t}) \\mathcal{Y}$",
    equation="eq-flow-closed-form",
    source_holds=False,
    where="Linearized models, closed-form solution (second expression)",
    source_says="f(θ) = f(θ(0)) e^{-K∞ t} + (I - e^{-η K∞ t}) Y",
    truth="the same η (and, with the 1/N loss, 1/N) must appear in both exponentials: "
    "f_t = e^{-ηKt/N} f_0 + (I - e^{-ηKt/N}) Y",
)
def check_source_second_form_as_written():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    f0 = network(p0, x)[:, 0]
    first = jnp.stack([_expm_sym(k, -LEARNING_RATE * t) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    second = jnp.stack([_expm_sym(k, -t) @ f0 + (y[:, 0] - _expm_sym(k, -LEARNING_RATE * t) @ y[:, 0]) for t in ts])
    fixed = jnp.stack([_expm_sym(k, -LEARNING_RATE * t / x.shape[0]) @ (f0 - y[:, 0]) + y[:, 0] for t in ts])
    return [
        check_close(
            "second expression vs the first expression ($\\eta = 1.5$)",
            second,
            first,
            atol=rounding(stages=100),
            expect=False,
        ),
        check_close(
            "$e^{-\\eta K t/N} f_0 + (I - e^{-\\eta K t/N}) \\mathcal{Y}$ vs the integrated flow",
            fixed,
            outs[:, :, 0],
            atol=_SOLVER,
        ),
    ]


@claim(
    CHAPTER,
    "The separation result $g = C e^{-\\eta K t}$ (a matrix exponential, $C = g(0)$ as a row) solves "
    "$dg/dt = -\\eta K g$",
    equation="eq-eigen-modes",
    source_holds=True,
    where="Linearized models, solving dg/dt = -η K g (source lines 302-307), with the source's own gradient f - Y; "
    "the step ∫ dg/g divides by a vector and is not defined, but its result is right",
)
def check_separation_as_written():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric(loss_scale=float(N_TRAIN), t_end=60.0 / N_TRAIN)
    g = outs[:, :, 0] - y[:, 0]
    C = g[0]  # "when t = 0, we have C = f(θ(0)) - Y"
    source = jnp.stack([C @ _expm_sym(k, -LEARNING_RATE * t) for t in ts])
    return check_close(
        "$C e^{-\\eta K t}$ (matrix exponential, $C = g(0)$) vs $g(t)$ of the integrated flow of "
        "$\\mathcal{L} = \\frac12 \\sum \\lVert f - y\\rVert^2$",
        source,
        g,
        atol=_SOLVER,
    )


@claim(
    CHAPTER,
    "In the eigenbasis of $K$ the flow decouples into scalar ODEs $h_k' = -(\\eta \\lambda_k/N) h_k$",
    equation="eq-eigen-modes",
)
def check_eigen_modes():
    x, y, xt, p0, ts, outs, outs_t, k, kt = _flow_numeric()
    n = x.shape[0]
    lam, v = jnp.linalg.eigh(k)
    h = (outs[:, :, 0] - y[:, 0]) @ v  # (T, N): modes
    predicted = h[0][None] * jnp.exp(-LEARNING_RATE * lam[None] * jnp.asarray(ts)[:, None] / n)
    return check_close(
        "modes $V^\\top(f_t - \\mathcal{Y})$ of the integrated flow vs $h_k(0) e^{-\\eta \\lambda_k t/N}$",
        h,
        predicted,
        atol=_SOLVER,
    )


# --------------------------------------------------------------------------- claims: real networks vs width

WIDTHS = (64, 256, 1024, 4096)
SWEEP_SEEDS = 8
SWEEP_STEPS = 100


@functools.cache
def width_sweep(
    widths: tuple[int, ...] = WIDTHS, seeds: int = SWEEP_SEEDS, steps: int = SWEEP_STEPS, record_every: int = 5
) -> dict:
    """Train the real network (``vmap`` over ``seeds`` initializations, key 10 folded with the width: independent
    draws at every width) at each width and
    compare with f_lin (its empirical-kernel closed form, discrete) and with the infinite-width
    closed form started from the network's own ``f_0``.

    Returns a dict of NumPy arrays: ``gap_lin`` and ``gap_inf`` ``(W, seeds)`` (max over steps and
    over the 55 train + test outputs), and for plotting the first seed's train/test losses
    ``loss_real``, ``loss_lin``, ``loss_inf`` ``(W, 2, steps + 1)`` (train, test).
    """
    x, y, xt, yt = toy_problem()
    _, k_inf = infinite_kernels(x)
    _, k_inf_tx = infinite_kernels(xt, x)
    times = np.arange(0, steps + 1, record_every)

    def one(p0, x, y, xt, yt):
        traj = train(
            network, p0, x, y, learning_rate=LEARNING_RATE, steps=steps, record_every=record_every, x_test=xt, y_test=yt
        )
        f_real, ft_real = traj.train_outputs, traj.test_outputs
        k, kt = empirical_kernels(p0, x, xt)
        return f_real, ft_real, k, kt, network(p0, x), network(p0, xt)

    # Only this part depends on the width (one compilation per width; the initial parameters are
    # drawn outside it, so that the random draws are not compiled again for every width); the
    # closed forms below have width-independent shapes, compiled once.
    run = jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None)))
    closed = jax.jit(
        jax.vmap(
            lambda k, kt, f0, f0t: mse_dynamics(
                k, f0, y, learning_rate=LEARNING_RATE, times=times, kernel_test_train=kt, f0_test=f0t, discrete=True
            )
        )
    )
    gap = lambda a, b: np.max(np.abs(np.asarray(a) - np.asarray(b)), axis=(1, 2, 3))  # noqa: E731
    loss = lambda f, t: 0.5 * np.sum((np.asarray(f)[0] - np.asarray(t)) ** 2, axis=(1, 2)) / np.asarray(t).shape[0]  # noqa: E731
    out = {k: [] for k in ("gap_lin", "gap_inf", "loss_real", "loss_lin", "loss_inf")}
    for w in widths:
        p0 = init_networks(jax.random.split(jax.random.fold_in(jax.random.key(10), w), seeds), w)
        f_real, ft_real, k, kt, f0, f0t = run(p0, x, y, xt, yt)
        lin_tr, lin_te = closed(k, kt, f0, f0t)
        inf_tr, inf_te = closed(jnp.broadcast_to(k_inf, k.shape), jnp.broadcast_to(k_inf_tx, kt.shape), f0, f0t)
        out["gap_lin"].append(np.maximum(gap(f_real, lin_tr), gap(ft_real, lin_te)))
        out["gap_inf"].append(np.maximum(gap(f_real, inf_tr), gap(ft_real, inf_te)))
        for name, (tr, te) in (
            ("loss_real", (f_real, ft_real)),
            ("loss_lin", (lin_tr, lin_te)),
            ("loss_inf", (inf_tr, inf_te)),
        ):
            out[name].append(np.stack([loss(tr, y), loss(te, yt)]))
    return {k: np.stack(v) for k, v in out.items()} | {"widths": np.array(widths)}


@claim(
    CHAPTER,
    "Real network vs its linearization: the gap falls like $1/\\mathrm{width}$ (smooth activation), not like "
    "$\\mathrm{width}^{-1/2}$",
    equation="eq-linearized",
)
def check_width_gap_linearized():
    s = width_sweep()
    w = s["widths"]
    return rate_checks(
        f"mean over {s['gap_lin'].shape[1]} seeds of $\\max_t \\lvert f_t - f^{{\\mathrm{{lin}}}}_t\\rvert$ vs width "
        f"{w[0]}..{w[-1]} (independent draws)",
        w,
        s["gap_lin"],
        -1.0,
        next_order=-0.5,
        alternative=-0.5,
        detail="expected $-1$: the second-order terms of $f - f^{\\mathrm{lin}}$ are sums over units with random signs",
    )


@claim(
    CHAPTER,
    "Real network vs the infinite-width closed form: the gap falls like $\\mathrm{width}^{-1/2}$",
    equation="eq-discrete-closed-form",
)
def check_width_gap_infinite():
    s = width_sweep()
    w = s["widths"]
    return rate_checks(
        f"mean over {s['gap_inf'].shape[1]} seeds of $\\max_t \\lvert f_t - f^{{\\infty}}_t\\rvert$ vs width "
        f"{w[0]}..{w[-1]} (independent draws)",
        w,
        s["gap_inf"],
        -0.5,
        next_order=-0.5,
        alternative=-1.0,
        detail="expected $-1/2$: the empirical NTK fluctuates by $O(n^{-1/2})$ around $K_\\infty$",
    )


# --------------------------------------------------------------------------- claims: the NTK-GP

ENSEMBLE_WIDTH = 1024
ENSEMBLE_SEEDS = 512
ENSEMBLE_LR = 1.75
# The ensemble's inputs: the toy problem's circle scaled to radius 4 (||x||²/n_0 = 8). On the radius-2 circle
# the NTK-GP variance and the NNGP posterior variance differ by at most 3% (and by 4% along the most
# discriminating combination of test outputs): some 10^5 networks would be needed to tell them apart. At
# radius 4 erf works nearer its saturation, the two kernels differ more, and 512 networks suffice.
ENSEMBLE_RADIUS = 4.0
# The combination of the test outputs compared: within the eigen-directions of the NTK-GP covariance that
# carry at least this fraction of its largest eigenvalue (where finite-width corrections are small relative
# to the variance), the one along which the NNGP posterior variance falls furthest below the NTK-GP variance.
ENSEMBLE_DIRECTION_FLOOR = 0.1


def nngp_posterior(s_tt: jax.Array, s_tx: jax.Array, s_xx: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The NNGP posterior (exact Bayesian inference with the prior covariance ``Σ``, no noise): mean
    ``Σ(x*,X) Σ^-1 Y`` ``(M, n_L)`` and covariance ``Σ(x*,x*) - Σ(x*,X) Σ^-1 Σ(X,x*)`` ``(M, M)`` -- what the
    trained ensemble is *not*."""
    solve = jnp.linalg.solve(s_xx, jnp.concatenate([s_tx.T, y], axis=1))
    return s_tx @ solve[:, s_tx.shape[0] :], s_tt - s_tx @ solve[:, : s_tx.shape[0]]


def discriminating_direction(cov: np.ndarray, alt: np.ndarray, floor: float = ENSEMBLE_DIRECTION_FLOOR) -> np.ndarray:
    """The unit combination ``v`` of test outputs that maximises ``v^T (cov - alt) v / v^T cov v`` among the
    eigen-directions of ``cov`` with eigenvalue at least ``floor`` times the largest (a generalized symmetric
    eigenproblem in that subspace): ``(M,)``."""
    lam, u = np.linalg.eigh(np.asarray(cov))
    uk = u[:, lam >= floor * lam[-1]]
    a, b = uk.T @ (np.asarray(cov) - np.asarray(alt)) @ uk, uk.T @ np.asarray(cov) @ uk
    w = np.linalg.cholesky(b)
    winv = np.linalg.inv(w)
    _, vecs = np.linalg.eigh(winv @ a @ winv.T)
    v = uk @ (winv.T @ vecs[:, -1])
    return v / np.linalg.norm(v)


@functools.cache
def ensemble(width: int = ENSEMBLE_WIDTH, seeds: int = ENSEMBLE_SEEDS, radius: float = ENSEMBLE_RADIUS) -> dict:
    """Train ``seeds`` networks (key 20, ``vmap``) on the toy problem with its inputs scaled to ``radius``,
    until the slowest mode has decayed by 1e-6, and return their test predictions ``(seeds, M)`` beside
    the analytic NTK-GP mean and covariance at t = ∞ and the NNGP posterior's."""
    x, y, xt, yt = toy_problem()
    x, xt = x * (radius / RADIUS), xt * (radius / RADIUS)
    s_xx, k_xx = infinite_kernels(x)
    s_tx, k_tx = infinite_kernels(xt, x)
    s_tt, _ = infinite_kernels(xt)
    lam = jnp.linalg.eigvalsh(k_xx)
    steps = int(np.ceil(np.log(1e6) * x.shape[0] / (ENSEMBLE_LR * float(lam[0]))))
    mean, cov = ntk_gp(s_tt, s_tx, s_xx, k_tx, k_xx, y)
    nngp_mean, nngp_cov = nngp_posterior(s_tt, s_tx, s_xx, y)

    def one(p0, x, y, xt):
        p = train(network, p0, x, y, learning_rate=ENSEMBLE_LR, steps=steps, record_every=steps).params
        return network(p, xt)[:, 0], mse_loss(network(p, x), y)

    keys = jax.random.split(jax.random.key(20), seeds)
    preds, losses = jax.jit(jax.vmap(one, in_axes=(0, None, None, None)))(init_networks(keys, width), x, y, xt)
    return dict(
        preds=np.asarray(preds),
        final_loss=np.asarray(losses),
        mean=np.asarray(mean[:, 0]),
        var=np.asarray(jnp.diag(cov)),
        cov=np.asarray(cov),
        nngp_mean=np.asarray(nngp_mean[:, 0]),
        nngp_cov=np.asarray(nngp_cov),
        steps=steps,
        x_test=np.asarray(xt),
        x=np.asarray(x),
        y=np.asarray(y),
        lam_max=float(lam[-1]),
    )


def _variance_and_stderr(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample variance over the first axis and its standard error (from the fourth central moment)."""
    m = p.shape[0]
    var = p.var(0, ddof=1)
    c = p - p.mean(0)
    return var, np.sqrt(np.maximum((c**4).mean(0) - var**2, 0) / m)


@claim(
    CHAPTER,
    "Ensemble of trained networks vs the NTK-GP: mean and variance at $t = \\infty$; the variance is not the NNGP "
    "posterior variance",
    equation="eq-ntk-gp",
)
def check_ntk_gp_ensemble():
    e = ensemble()
    p = e["preds"]
    m = p.shape[0]
    est_mean = p.mean(0)
    se_mean = p.std(0, ddof=1) / np.sqrt(m)
    est_var, se_var = _variance_and_stderr(p)
    v = discriminating_direction(e["cov"], e["nngp_cov"])
    proj_var, proj_se = _variance_and_stderr(p @ v)
    ntk_v, nngp_v = float(v @ e["cov"] @ v), float(v @ e["nngp_cov"] @ v)
    z_nngp = abs(float(proj_var) - nngp_v) / float(proj_se)
    noise = 1024 * np.finfo(float).eps * ntk_v / float(proj_se)
    return [
        check_monte_carlo(
            f"ensemble mean of {m} networks (width {ENSEMBLE_WIDTH}) vs "
            "$\\Theta(\\mathbf{x}^*, \\mathcal{X}) \\Theta^{-1} \\mathcal{Y}$, 48 test inputs, radius "
            f"{ENSEMBLE_RADIUS:g}",
            est_mean,
            e["mean"],
            se_mean,
        ),
        check_monte_carlo("ensemble variance vs the NTK-GP variance, 48 test inputs", est_var, e["var"], se_var),
        check_monte_carlo(
            "variance of $v^\\top f(\\mathbf{x}^*)$ ($v$: the combination of test outputs that best separates the two) "
            "vs the NTK-GP's $v^\\top C v$",
            proj_var,
            ntk_v,
            proj_se,
            detail=f"NNGP posterior $v^\\top C v$ = {shown(nngp_v, 1e-12, 2)} is {1 - nngp_v / ntk_v:.0%} lower",
        ),
        # The alternative rejected: its distance from the estimate is at least 5 standard errors.
        CheckResult(
            "the same variance vs the NNGP posterior's $v^\\top C v$: 5 SE vs their distance (rejected when 5 SE is less)",
            "monte carlo",
            5.0 * float(proj_se),
            abs(float(proj_var) - nngp_v),
            bool(z_nngp >= 5.0),
            True,
            float(proj_se),
            "$z = \\lvert\\mathrm{estimate} - \\mathrm{NNGP}\\rvert/\\mathrm{SE}$ = "
            f"{shown(z_nngp, noise, 2, 'g')} (rejected at $z \\ge 5$)",
            1024 * float(np.finfo(float).eps) * ntk_v,
        ),
    ]
