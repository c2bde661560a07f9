"""Chapter 8 -- the empirical Neural Tangent Kernel and gradient flow (``book/08-ntk.ipynb``): the
three computations of ``K`` agree and match the entrywise formula, the gradient of the loss through the
per-sample cost, the output ODE ``df/dt = -(1/N) sum_i K(x, x_i) grad_f l_i``, one gradient-descent step
against it (remainder ``O(eta^2)``), and ``K`` as the Gram matrix of the feature map.

The library is :mod:`ntkbook.ntk` (and the network :mod:`ntkbook.mlp`); this module holds the chapter's
per-sample losses, its gradient-descent study and its claims (the ``check_*`` functions).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from .. import mlp as _mlp
from ..claims import check_close, check_definitional, claim, rate_checks, rounding, shown
from ..ntk import empirical_ntk, feature_map, kernel_output_velocity, mlp_apply_fn

CHAPTER = "08-ntk"

__all__ = [
    "CHAPTER",
    "ETAS",
    "LOSSES",
    "REMAINDER_NOISE",
    "check_cost_signature",
    "check_entrywise_formula",
    "check_feature_map_psd",
    "check_gd_step",
    "check_loss_gradient",
    "check_output_ode",
    "check_strategies_agree",
    "cross_entropy_loss",
    "empirical_loss",
    "gd_remainders",
    "gd_step_remainder",
    "loss_output_gradients",
    "sample_squared_error",
]

ApplyFn = Callable[[Any, jax.Array], jax.Array]


# --------------------------------------------------------------------------- losses and one step of gradient descent


def sample_squared_error(f: jax.Array, y: jax.Array) -> jax.Array:
    """Per-sample squared error ``l(f, y) = |f - y|^2 / 2``; ``f, y`` of shape ``(n_L,)`` (the cost of one
    sample; the MSE loss of a batch, its mean, is :func:`ntkbook.linearized.mse_loss`)."""
    return 0.5 * jnp.sum((f - y) ** 2)


def cross_entropy_loss(f: jax.Array, y: jax.Array) -> jax.Array:
    """Per-sample softmax cross-entropy ``l(f, y) = log sum_k exp f_k - f_y``; ``f`` of shape
    ``(n_L,)`` (logits), ``y`` an integer class label in ``[0, n_L)``: a loss that is not quadratic in ``f``."""
    return jax.nn.logsumexp(f) - f[y]


LOSSES = {"mse": sample_squared_error, "cross_entropy": cross_entropy_loss}


def empirical_loss(
    apply_fn: ApplyFn, params: Any, x: jax.Array, y: jax.Array, loss: Callable = sample_squared_error
) -> jax.Array:
    """``L(θ) = (1/N) sum_i l(f(x_i; θ), y_i)`` for a batch ``x`` ``(N, n_0)`` and labels ``y`` (``N`` rows)."""
    f = apply_fn(params, x)
    return jnp.mean(jax.vmap(loss)(f, y))


def loss_output_gradients(
    apply_fn: ApplyFn, params: Any, x: jax.Array, y: jax.Array, loss: Callable = sample_squared_error
) -> jax.Array:
    """``∇_f l(f(x_i), y_i)`` for every sample: shape ``(N, n_L)``."""
    f = apply_fn(params, x)
    return jax.vmap(jax.grad(loss))(f, y)


def gd_step_remainder(
    apply_fn, params, x_train, y_train, x_test, etas, loss: Callable = sample_squared_error, *, kernel=None
) -> np.ndarray:
    """For each step size ``η``: ``max |f(x; θ - η ∇L) - f(x; θ) + (η/N) sum_i K(x, x_i) ∇_f l_i|``
    over the test inputs -- the part of one gradient-descent step on the outputs that the NTK does
    not predict (``O(η^2)``). ``kernel``: ``K(x_test, x_train)`` if already computed
    (``(M, N, n_L, n_L)``). Returns shape ``(len(etas),)``."""
    K = empirical_ntk(apply_fn, params, x_test, x_train, strategy="jacobian") if kernel is None else kernel
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    return np.asarray(
        _gd_step_remainder(apply_fn, loss, params, x_train, y_train, x_test, K, jnp.asarray(etas, dtype=dtype))
    )


@functools.partial(jax.jit, static_argnums=(0, 1))
def _gd_step_remainder(apply_fn, loss, params, x_train, y_train, x_test, K, etas):
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    grad = jax.grad(lambda p: empirical_loss(apply_fn, p, x_train, y_train, loss))(params)
    gflat, _ = jax.flatten_util.ravel_pytree(grad)
    velocity = kernel_output_velocity(K, loss_output_gradients(apply_fn, params, x_train, y_train, loss))
    f0 = apply_fn(params, x_test)
    return jax.vmap(lambda eta: jnp.max(jnp.abs(apply_fn(unravel(flat - eta * gflat), x_test) - f0 - eta * velocity)))(
        etas
    )


# --------------------------------------------------------------------------- the chapter's claims

# Agreement of two float64 computations of K: each entry is a sum of P products of Jacobian entries,
# taken in a different order (and, layerwise, factored differently). With u = 2^-53 the summation
# error is at most ~P u max|K| (|J_ip J_jp| summed is <= (K_ii + K_jj)/2 <= max|K|); P <= 1500 here
# gives ~2e-13, plus a few ulps from the Jacobian entries themselves: rounding(stages=10) = 1e-12
# relative to max|K|.


def _setup(widths=(3, 24, 16, 2), *, key=0, n1=6, n2=5, activation="tanh", beta=0.5):
    params = _mlp.init(jax.random.key(key), widths)
    x1 = _mlp.standard_normal(jax.random.key(key + 1), (n1, widths[0]))
    x2 = _mlp.standard_normal(jax.random.key(key + 2), (n2, widths[0]))
    # One function object per (activation, beta), shared by the claims: it is a static argument of
    # the jitted strategies, so a fresh lambda per set-up would compile them again for every claim.
    return params, x1, x2, mlp_apply_fn(activation, beta)


@functools.partial(jax.jit, static_argnums=0)
def _flat_jacobian_fwd(fn, params, x):
    """An independent route to J: forward mode (``jacfwd``) over the flattened parameter vector, ``(N, o, P)``."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return jax.vmap(lambda xi: jax.jacfwd(lambda t: fn(unravel(t), xi[None])[0])(flat))(x)


@claim(
    CHAPTER,
    "The Jacobian-contraction, NTK-vector-product and layerwise computations of $K$ agree",
    equation="eq-ntk-layerwise",
)
def check_strategies_agree():
    results = []
    for act, beta, widths in (
        ("relu", 0.0, (3, 24, 16, 2)),
        ("erf", 1.0, (4, 32, 3)),
        ("gelu", 0.2, (2, 16, 16, 16, 2)),
    ):
        params, x1, x2, fn = _setup(widths, activation=act, beta=beta)
        cfg = dict(activation=act, beta=beta)
        ref = empirical_ntk(fn, params, x1, x2, strategy="jacobian")
        for strat in ("products", "layerwise"):
            K = empirical_ntk(fn, params, x1, x2, strategy=strat, mlp_config=cfg)
            results.append(
                check_close(
                    f"{act}, $\\beta = {beta}$, widths {widths}: '{strat}' vs 'jacobian' "
                    "(relative to $\\max \\lvert K \\rvert$)",
                    K,
                    ref,
                    atol=rounding(stages=10),
                    relative=True,
                )
            )
        Ktr = empirical_ntk(fn, params, x1, x2, strategy="layerwise", mlp_config=cfg, output="trace")
        results.append(
            check_close(
                f"{act}: output='trace' (layerwise) vs the trace of the full $K$",
                Ktr,
                jnp.trace(ref, axis1=2, axis2=3),
                atol=rounding(stages=10),
                relative=True,
            )
        )
    return results


@claim(
    CHAPTER,
    r"$K_{mn}(x, x') = \sum_p \frac{\partial f_m(x)}{\partial \theta_p} \frac{\partial f_n(x')}{\partial \theta_p}$, "
    r"and $K(x, x')^\top = K(x', x)$",
    equation="eq-ntk-entry",
    source_holds=True,
    where="Neural Tangent Kernel, entrywise formula",
)
def check_entrywise_formula():
    params, x1, x2, fn = _setup()
    J1 = np.asarray(_flat_jacobian_fwd(fn, params, x1))  # (N1, o, P) by forward mode
    J2 = np.asarray(_flat_jacobian_fwd(fn, params, x2))
    P = J1.shape[2]
    explicit = np.zeros((x1.shape[0], x2.shape[0], 2, 2))
    for p in range(P):  # the sum over parameters, one parameter at a time, as the formula reads
        explicit += J1[:, None, :, None, p] * J2[None, :, None, :, p]
    K12 = empirical_ntk(fn, params, x1, x2)
    K21 = empirical_ntk(fn, params, x2, x1)
    return [
        check_close(
            f"empirical_ntk vs the explicit sum over all $P = {P}$ parameters (forward-mode Jacobians)",
            K12,
            explicit,
            atol=rounding(stages=10),
            relative=True,
        ),
        check_close(
            "$K(x, x')$ vs $K(x', x)^\\top$",
            K12,
            jnp.transpose(K21, (1, 0, 3, 2)),
            atol=rounding(stages=10),
            relative=True,
        ),
    ]


@claim(
    CHAPTER,
    r"The per-sample cost $\ell$ takes the input space $\mathbb{R}^{n_0}$ as its first argument",
    equation="eq-loss",
    source_holds=False,
    where="Neural Tangent Kernel, definition of the empirical loss",
    source_says="a per-sample cost l : R^{n_0} x R^{n_L} -> R_+, used as l(f(x^(i); theta), y^(i))",
    truth="l is applied to the network output f(x) in R^{n_L} and a label y: l : R^{n_L} x Y -> R_+ "
    "(Y = R^{n_L} for regression, the class labels for classification); so nabla_f l has size n_L x 1 as "
    "the source itself writes",
)
def check_cost_signature():
    params, x1, _, fn = _setup((3, 24, 16, 2))
    first_argument = fn(params, x1)[0]
    return check_definitional(
        f"dimension of the first argument passed to $\\ell$ ($f(x) \\in \\mathbb{{R}}^{{n_L}}$) vs "
        f"$n_0 = {x1.shape[1]}$ (as written)",
        first_argument.shape[0],
        x1.shape[1],
        expect=False,
    )


@functools.partial(jax.jit, static_argnums=(0, 4))
def _loss_gradient_routes(fn, params, x, y, loss):
    """``∇_θ L`` by autodiff (flattened, ``(P,)``), the per-input Jacobians ``J`` ``(N, n_L, P)``
    (``∇_θ f(x_i) = J_i^T`` is ``P x n_L``) and ``∇_f l`` ``(N, n_L)`` (``n_L x 1`` per sample)."""
    autodiff, _ = jax.flatten_util.ravel_pytree(jax.grad(lambda p: empirical_loss(fn, p, x, y, loss))(params))
    return autodiff, jnp.transpose(feature_map(fn, params, x), (0, 2, 1)), loss_output_gradients(fn, params, x, y, loss)


@claim(
    CHAPTER,
    r"With $\ell : \mathbb{R}^{n_L} \times \mathcal{Y} \to \mathbb{R}_+$, "
    r"$\nabla_\theta \mathcal{L} = \frac{1}{N} \sum_i \nabla_\theta f(x_i) \nabla_f \ell_i$ "
    r"(sizes $P \times n_L$ times $n_L \times 1$)",
    equation="eq-loss-grad",
    source_holds=True,
    where="Neural Tangent Kernel, gradient of the loss",
)
def check_loss_gradient():
    params, x, _, fn = _setup(n1=8)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    results = []
    for name, loss in LOSSES.items():
        autodiff, J, g = _loss_gradient_routes(fn, params, x, ys[name], loss)
        chain = jnp.mean(jnp.einsum("aip,ai->ap", J, g), axis=0)
        results.append(
            check_close(
                f"{name}: jax.grad of $\\mathcal{{L}}$ vs $\\frac{{1}}{{N}} \\sum_i J_i^\\top \\nabla_f \\ell_i$, "
                f"$P = {J.shape[2]}$, $N = {x.shape[0]}$",
                chain,
                autodiff,
                atol=rounding(stages=10),
                relative=True,
                detail=f"$\\nabla_\\theta f(x_i)$: ${J.shape[2]} \\times {J.shape[1]}$, "
                f"$\\nabla_f \\ell$: ${g.shape[1]} \\times 1$",
            )
        )
    return results


@functools.partial(jax.jit, static_argnums=(0, 5))
def _output_velocity_routes(fn, params, x, xt, y, loss):
    """``df(xt)/dt`` under gradient flow by the chain rule (a ``jvp`` along ``dθ/dt = -∇_θ L``), ``(M, n_L)``,
    and the loss gradients ``∇_f l_i`` of the training set, ``(N, n_L)``."""
    theta_dot = jax.tree_util.tree_map(jnp.negative, jax.grad(lambda p: empirical_loss(fn, p, x, y, loss))(params))
    _, f_dot = jax.jvp(lambda p: fn(p, xt), (params,), (theta_dot,))  # chain rule: (df/dtheta) (dtheta/dt)
    return f_dot, loss_output_gradients(fn, params, x, y, loss)


@claim(
    CHAPTER,
    r"Under gradient flow $d\theta/dt = -\nabla_\theta \mathcal{L}$ the outputs move by "
    r"$df(x)/dt = -\frac{1}{N} \sum_i K(x, x_i) \nabla_f \ell_i$",
    equation="eq-output-ode",
    source_holds=True,
    where="Neural Tangent Kernel, output dynamics",
)
def check_output_ode():
    params, x, xt, fn = _setup(n1=8, n2=5)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    results = []
    K = empirical_ntk(fn, params, xt, x)
    for name, loss in LOSSES.items():
        f_dot, grads = _output_velocity_routes(fn, params, x, xt, ys[name], loss)
        predicted = kernel_output_velocity(K, grads)
        results.append(
            check_close(
                f"{name}: $df/dt$ by the chain rule (jvp) vs $-\\frac{{1}}{{N}} \\sum_i K(x, x_i) \\nabla_f \\ell_i$ "
                f"on {xt.shape[0]} new inputs",
                predicted,
                f_dot,
                atol=rounding(stages=10),
                relative=True,
            )
        )
    return results


ETAS = np.logspace(-4, -1, 7)
# The remainder is a difference of O(1) outputs, each rounded to a few eps: it moves by < 7e-16 between
# XLA's AVX-512 and SSE4.2 code (measured); 1e-14 bounds that with a margin (claims.slope_noise).
REMAINDER_NOISE = 1e-14


@functools.cache
def gd_remainders() -> dict:
    """The remainders of :func:`gd_step_remainder` over :data:`ETAS`, for MSE and cross-entropy
    (tanh network (3, 24, 16, 2), beta = 0.5, 8 training and 5 test inputs)."""
    params, x, xt, fn = _setup(n1=8, n2=5)
    ys = {"mse": _mlp.standard_normal(jax.random.key(9), (8, 2)), "cross_entropy": jnp.arange(8) % 2}
    K = empirical_ntk(fn, params, xt, x, strategy="jacobian")
    return {name: gd_step_remainder(fn, params, x, ys[name], xt, ETAS, loss, kernel=K) for name, loss in LOSSES.items()}


@claim(
    CHAPTER,
    r"One gradient-descent step of size $\eta$ changes the outputs by "
    r"$-\frac{\eta}{N} \sum_i K(x, x_i) \nabla_f \ell_i + O(\eta^2)$",
    equation="eq-gd-step",
)
def check_gd_step():
    rem = gd_remainders()
    # The rate under the book's one criterion (rate_test), on deterministic values: their standard error is the
    # slope's rounding noise (REMAINDER_NOISE per value). The next order is derived: the remainder is the Taylor
    # series of eta -> f(theta - eta grad L) past its linear term, c2 eta^2 + c3 eta^3 + ... with
    # c2 = grad L^T (Hessian of f) grad L / 2, so y = c2 eta^2 (1 + (c3/c2) eta + ...): the relative next-order
    # term is eta^1 (next_order=1); the shift of the fitted exponent when it is fitted beside is the allowance.
    # A first-order remainder (exponent 1: a kernel that did not predict the step) is rejected.
    return [
        check
        for name, r in rem.items()
        for check in rate_checks(
            f"{name}: the remainder falls like $\\eta^2$, $\\eta$ in $[10^{{-4}}, 10^{{-1}}]$",
            ETAS,
            r,
            2.0,
            next_order=1.0,
            alternative=1.0,
            y_noise=REMAINDER_NOISE,
            variable="\\eta",
            detail="remainder $c_2 \\eta^2 + c_3 \\eta^3 + \\dots$: relative next order $\\eta^1$",
        )
    ]


@claim(
    CHAPTER,
    r"$K(x, x') = \varphi(x)^\top \varphi(x')$ with $\varphi(x) = \nabla_\theta f(x)$, "
    "so the batch kernel is a PSD Gram matrix",
    equation="eq-feature-map",
    source_holds=True,
    where="Neural Tangent Kernel, feature map",
)
def check_feature_map_psd():
    results = []
    for widths, n in (((3, 24, 16, 2), 12), ((2, 3, 2), 20)):
        params, x, _, fn = _setup(widths, n1=n)
        phi = feature_map(fn, params, x)  # (N, P, o)
        K = empirical_ntk(fn, params, x, strategy="layerwise", mlp_config=dict(activation="tanh", beta=0.5))
        gram = jnp.einsum("apu,bpv->abuv", phi, phi)
        results.append(
            check_close(
                f"widths {widths}: $K$ vs $\\varphi(x)^\\top \\varphi(x')$ from the feature map",
                K,
                gram,
                atol=rounding(stages=10),
                relative=True,
            )
        )
        o = widths[-1]
        M = np.asarray(jnp.reshape(jnp.transpose(K, (0, 2, 1, 3)), (n * o, n * o)))
        eig = np.linalg.eigvalsh((M + M.T) / 2)
        P = phi.shape[1]
        # eigenvalues of a PSD matrix computed in float64 can dip below 0 by ~ size * u * lambda_max
        tol = n * o * 2.0**-52 * float(eig[-1])
        results.append(
            check_close(
                f"widths {widths}, $N = {n}$: smallest eigenvalue of the ${n * o} \\times {n * o}$ Gram matrix "
                "is $\\ge 0$",
                min(float(eig[0]), 0.0),
                0.0,
                atol=tol,
                detail=f"$\\lambda_{{\\min}}$ {shown(eig[0], tol)}, $\\lambda_{{\\max}}$ {shown(eig[-1], tol, 3, 'g')}, "
                f"$P = {P}$",
            )
        )
        if P < n * o:
            rank = int(np.sum(eig > tol))
            results.append(
                check_close(
                    f"widths {widths}: rank of the Gram matrix is at most $P = {P} < N n_L = {n * o}$",
                    min(rank, P),
                    rank,
                    atol=0,
                    detail=f"rank {rank}",
                )
            )
    return results
