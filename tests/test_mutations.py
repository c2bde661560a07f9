"""Mutation tests (issue 16, item 3): break one core formula of the library at a time and show that a
registered claim then fails.

Each entry of :data:`MUTATIONS` names a formula, the patch that breaks it (``pytest.MonkeyPatch`` on the
name the library looks up when it traces or calls the formula), and the claims expected to catch it.
For each mutation the test runs those claims' check functions (straight from the registry, no notebook)
and asserts that at least one check does not come out as expected; :func:`test_catchers_pass_unmutated`
asserts that the same claims pass on the unbroken library (their verdicts as the chapters store them, which
nbval re-executes), so a failure under a mutation is the mutation's doing. A mutation that no claim catches is a *gap*: it is
listed with ``gap=`` (why, and the claim that would close it) and marked ``xfail(strict=True)``, so the
suite stays green while the gap is open and turns red the day a claim starts catching it.

The table of what caught what is :data:`MUTATIONS` itself; ``pytest tests/test_mutations.py -s`` prints it
with the failing check and its measured error against its tolerance.

Isolation. A mutated run must neither see results computed before the mutation nor leave any behind:
before and after each mutation every JAX compilation cache (``jax.clear_caches()``: module-level ``jax.jit``
objects keep compiled programs traced with the old function) and every ``functools`` cache of the
package (the chapters' cached studies, the cached apply functions and compiled strategy plans of
:mod:`ntkbook.ntk`) are cleared, and the registry's per-process results are restored.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import pytest

from ntkbook import _fast, clt, gp, infinite_ntk, jacobians, linearized, nngp, ntk, odes, taylor
from ntkbook.claims import CheckResult, ClaimFailed, _registry, registry

Patch = Callable[[pytest.MonkeyPatch], None]


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One broken formula.

    Attributes:
      name: a short id (the test id).
      what: the formula and how it is broken, in words.
      patch: applies the mutation with a ``MonkeyPatch`` (undone after the test).
      catchers: ids of the registered claims run against it, cheapest first; the first failure is enough.
      also: further claims measured to catch it (too slow to run here as well; listed for the table).
      gap: for a mutation that no claim catches: why, and the claim that would.
    """

    name: str
    what: str
    patch: Patch
    catchers: tuple[str, ...]
    also: tuple[str, ...] = ()
    gap: str = ""


# --------------------------------------------------------------------------- patch helpers


def _set_everywhere(mp: pytest.MonkeyPatch, module, name: str, new) -> None:
    """Replace ``module.name`` and every ``ntkbook`` module's own reference to the same object (a chapter
    that did ``from ..module import name`` looks the name up in its own namespace)."""
    old = getattr(module, name)
    mp.setattr(module, name, new)
    for modname, mod in list(sys.modules.items()):
        if mod is not module and (modname == "ntkbook" or modname.startswith("ntkbook.")):
            if getattr(mod, name, None) is old:
                mp.setattr(mod, name, new)


def _wrap_recursion(mp, *, layer=None, out=None, b2_scale=1.0) -> None:
    """Mutate the one loop over layers (``ntkbook._fast.recursion``, looked up at trace time by
    ``closed_kernels`` and ``ntkbook.nngp.kernel_recursion``): wrap its layer map, its outputs, or its ``β²``."""
    orig, wrap_layer, wrap_out = _fast.recursion, layer, out

    def recursion(cov, v1, v2, b2, *, depth, layer, unroll=True):
        # always unrolled: a wrapped layer map that keeps state across layers (``_lagged``) needs one trace per layer
        layer = wrap_layer(layer) if wrap_layer else layer
        res = orig(cov, v1, v2, b2 * b2_scale, depth=depth, layer=layer, unroll=True)
        return wrap_out(*res) if wrap_out and depth > 1 else res

    mp.setattr(_fast, "recursion", recursion)


def _wrap_layer_map(mp, activation: str, mutate) -> None:
    """Mutate the closed-form layer map of ``activation`` where every path gets it: ``ntkbook._fast.closed_form``
    (looked up at trace time by ``closed_kernels`` and by ``ntkbook.nngp.kernel_map``)."""
    orig = _fast.closed_form
    mp.setattr(_fast, "closed_form", lambda name: mutate(orig(name)) if name == activation else orig(name))


def _loop_with_sigma_for_k(cov, v1, v2, b2, *, depth, layer, unroll=True):
    """``ntkbook._fast.recursion`` with ``Σ^(l)`` where ``K^(l)`` belongs in the NTK update:
    ``K^(l+1) = Σ^(l+1) + Σ^(l) Σ̇^(l+1)`` (``test_copied_loop_is_the_library_loop`` holds the unmutated copy)."""
    return _loop(cov, v1, v2, b2, depth=depth, layer=layer, sigma_for_k=True)


def _loop(cov, v1, v2, b2, *, depth, layer, sigma_for_k=False):
    k = cov
    for _ in range(depth - 1):
        sigma, sigma_dot, var1, var2 = layer(cov, v1, v2)
        below = cov if sigma_for_k else k
        cov = sigma + b2
        k = cov + below * sigma_dot
        v1, v2 = var1 + b2, var2 + b2
    return cov, k


def _lagged(layer_map):
    """Each layer gets the ``Σ̇`` of the layer below (``Σ̇^(l)`` for ``Σ̇^(l+1)``; the first gets 1). A fresh
    wrapper per recursion call: the loop is unrolled in Python, so the state is per trace."""
    previous = []

    def lay(cov, v1, v2):
        sigma, sigma_dot, var1, var2 = layer_map(cov, v1, v2)
        lagged = previous[-1] if previous else jnp.ones_like(sigma_dot)
        previous.append(sigma_dot)
        return sigma, lagged, var1, var2

    return lay


def _scaled(sigma=1.0, sigma_dot=1.0, var=1.0):
    """A layer-map wrapper scaling its outputs ``(E[σσ], E[σ'σ'], E[σ(u)²], E[σ(v)²])``."""

    def wrap(layer_map):
        def lay(cov, v1, v2):
            s, sd, a, b = layer_map(cov, v1, v2)
            return sigma * s, sigma_dot * sd, var * a, var * b

        return lay

    return wrap


# --------------------------------------------------------------------------- the mutations


def _drop_beta2(mp):
    _wrap_recursion(mp, b2_scale=0.0)


def _lag_sigma_dot(mp):
    _wrap_recursion(mp, layer=_lagged)


def _double_sigma_dot(mp):
    _wrap_recursion(mp, layer=_scaled(sigma_dot=2.0))


def _swap_outputs(mp):
    _wrap_recursion(mp, out=lambda sigma, k: (k, sigma))


def _sigma_for_k(mp):
    mp.setattr(_fast, "recursion", _loop_with_sigma_for_k)


def _nngp_factor(mp):
    # Σ^(l+1) = 2 E[σσ] + β² (a weight variance σ_w² = 2, as in He initialization), diagonal included
    _wrap_recursion(mp, layer=_scaled(sigma=2.0, var=2.0))


def _diagonal_factor(mp):
    # only the carried diagonal Σ(x, x) = E[σ(u)²] + β² off by 2: the correlations of the next layer are wrong
    _wrap_recursion(mp, layer=_scaled(var=2.0))


def _ntk_two_percent(mp):
    _wrap_recursion(mp, out=lambda sigma, k: (sigma, 1.02 * k))


def _nngp_two_percent(mp):
    _wrap_recursion(mp, out=lambda sigma, k: (1.02 * sigma, k))


def _relu_theta(mp):
    # θ in place of π - θ in both arc-cosine kernels: θ/(2π) = 1/2 - (π - θ)/(2π)
    def mutate(relu):
        def lay(cov, v1, v2):
            s, sd, a, b = relu(cov, v1, v2)
            return s + cov * (0.5 - 2 * sd), 0.5 - sd, a, b

        return lay

    _wrap_layer_map(mp, "relu", mutate)


def _relu_sigma_dot_factor(mp):
    # E[σ'σ'] = (π - θ)/π: the arc-cosine kernel of degree 0 without its 1/2
    _wrap_layer_map(mp, "relu", _scaled(sigma_dot=2.0))


def _erf_factor(mp):
    # Williams' kernel with its factors 2 dropped: (2/π) arcsin(cov / sqrt((1 + v1)(1 + v2))), the kernel of erf(u/√2)
    _wrap_layer_map(mp, "erf", lambda erf: lambda cov, v1, v2: erf(cov / 2, v1 / 2, v2 / 2))


def _first_layer_n0(mp):
    # Σ^(1) = x·x' + β² (no 1/n_0): ``ntkbook._fast._covariance`` and ``_variances``, the library's one first
    # layer (off the diagonal and on it) -- of every recursion, tiled or not, and of ``ntkbook.nngp.input_covariance``
    cov, var = _fast._covariance, _fast._variances
    mp.setattr(_fast, "_covariance", lambda x1, x2, b2: cov(x1, x2, b2) + (x1 @ x2.T) * (1 - 1 / x1.shape[1]))
    mp.setattr(_fast, "_variances", lambda x, b2: var(x, b2) + jnp.sum(x * x, axis=1) * (1 - 1 / x.shape[1]))


def _empirical_ntk_no_1_over_n(mp):
    # the layerwise NTK's A^(l)·A^(l)'/n_l + β² without the 1/n_l
    orig = ntk.sensitivities

    def sensitivities(params, x, *, activation="relu", beta=0.0):
        fwd, deltas = orig(params, x, activation=activation, beta=beta)
        return fwd._replace(post=[a * math.sqrt(a.shape[-1]) for a in fwd.post]), deltas

    mp.setattr(ntk, "sensitivities", sensitivities)


def _empirical_ntk_weights_only(mp):
    # J Jᵀ over the weights only (the bias leaves dropped from the contraction of the Jacobian strategy)
    orig = ntk._contract
    mp.setattr(ntk, "_contract", lambda j1, j2, output: orig(j1[1::2], j2[1::2], output))


def _finite_identity_no_1_over_n(mp):
    # the back-propagated term of the finite-width identity without its 1/n (K^(L-1) handed in n times too large)
    orig = infinite_ntk._sub_ntk
    mp.setattr(
        infinite_ntk,
        "_sub_ntk",
        lambda params, x1, x2, activation, beta: orig(params, x1, x2, activation, beta) * params[-1]["w"].shape[0],
    )


def _mse_no_1_over_n(mp):
    # D_t = exp(-η K t) instead of exp(-η K t / N): the 1/N of L = (1/N) Σ ½|f - y|² dropped
    orig = linearized._mse_dynamics
    mp.setattr(
        linearized,
        "_mse_dynamics",
        lambda k, f0, y, a, t, kt, f0_test, scalar, discrete: orig(
            k, f0, y, a * y.shape[0], t, kt, f0_test, scalar, discrete
        ),
    )


def _flow_sign(mp):
    # df/dt = +η K (f - Y)/N: the decay exp(-aλt) becomes exp(+aλt) (and (1 - aλ)^t becomes (1 + aλ)^t)
    orig = linearized._spectral_factors
    mp.setattr(linearized, "_spectral_factors", lambda lam, a, t, discrete: orig(lam, -a, t, discrete))


def _output_velocity_sign(mp):
    # df/dt = +(1/N) Σ_i K(x, x_i) ∇_f l_i
    orig = ntk.kernel_output_velocity
    _set_everywhere(mp, ntk, "kernel_output_velocity", lambda kernel, grads: -orig(kernel, grads))


def _linear_flow_sign(mp):
    # dg/dt = +A g: g(t) = e^{+At} g(0)
    orig = odes._linear_flow
    mp.setattr(odes, "_linear_flow", lambda A, g0, ts: orig(-A, g0, ts))


def _mse_transpose(mp):
    # f_t = Y + V D V^T (f_0 - Y) with the projection V^T (f_0 - Y) written V (f_0 - Y)
    mp.setattr(linearized, "_mse_dynamics", _no_transpose_jit)


def _no_transpose_body(k, f0, y, a, t, kt, f0_test, scalar, discrete):
    """``ntkbook.linearized._mse_dynamics`` with ``V r_0`` for ``Vᵀ r_0`` (the rest copied unchanged)."""
    n, n_out = y.shape
    lam, v = jnp.linalg.eigh(k)
    decay, resolvent = linearized._spectral_factors(lam, a, t, discrete)
    r0 = f0 - y
    r0 = r0 if scalar else r0.reshape(n * n_out, 1)
    coef = v @ r0  # the mutation: v.T @ r0 in the library
    train_out = y[None] + jnp.einsum("dk,tk,ko->tdo", v, decay, coef).reshape(t.shape[0], n, n_out)
    if f0_test is None:
        return train_out, None
    corr = jnp.einsum("md,dk,tk,ko->tmo", kt, v, resolvent, coef).reshape(t.shape[0], f0_test.shape[0], n_out)
    return train_out, f0_test[None] - corr


_no_transpose_jit = jax.jit(_no_transpose_body, static_argnums=(7, 8))


def _gp_posterior_sign(mp):
    # Σ_* = K_** + K_*ᵀ K_y⁻¹ K_*
    orig = gp._posterior_core

    def core(L, K_cross, K_test, y):
        post = orig(L, K_cross, K_test, y)
        return post._replace(cov=2 * 0.5 * (K_test + K_test.T) - post.cov)

    mp.setattr(gp, "_posterior_core", core)


def _chain_rule_transpose(mp):
    # J_{g∘f} = J_g(f(x))ᵀ J_f(x)
    _set_everywhere(
        mp,
        jacobians,
        "chain_rule_jacobian",
        lambda g, f, x: jacobians.jacobian(g, f(x)).T @ jacobians.jacobian(f, x),
    )


def _taylor_order(mp):
    # the order-n Taylor model missing its last term (the order-(n-1) model), so its remainder is O(r^n)
    orig = taylor.taylor_model_at
    _set_everywhere(mp, taylor, "taylor_model_at", lambda f, a, order: orig(f, a, max(int(order) - 1, 0)))


def _taylor_half(mp):
    # the second-order model without the 1/2 of its quadratic term: f(a) + J u + D²f[u, u]
    orig = taylor.second_order_at

    def second_order_at(f, a):
        quad, lin = orig(f, a), taylor.linearize_at(f, a)
        return lambda x: 2 * quad(x) - lin(x)

    _set_everywhere(mp, taylor, "second_order_at", second_order_at)


def _clt_scaling(mp):
    # the "sample mean" scaled by 1/√N instead of 1/N: (1/√N) Σ x_i
    orig = clt._sample_means

    def sample_means(sampler, sizes, reps, batch_size, key):
        out = orig(sampler, sizes, reps, batch_size, key)
        root = jnp.sqrt(jnp.asarray(sizes, out.dtype)).reshape((len(sizes),) + (1,) * (out.ndim - 2))
        return out * root

    mp.setattr(clt, "_sample_means", sample_means)


def _relu_variance_factor(mp):
    # E[relu(u)²] = v instead of v/2 (the diagonal of the ReLU map only)
    _wrap_layer_map(mp, "relu", _scaled(var=2.0))


def _hidden_covariance_sqrt_n(mp):
    # the finite network's conditional covariance A·A'/√n + β² instead of A·A'/n + β²
    orig = nngp._one_network

    def one_network(p, x, activation, beta):
        out, cov = orig(p, x, activation, beta)
        n = p[-1]["w"].shape[0]
        return out, (cov - beta**2) * math.sqrt(n) + beta**2

    mp.setattr(nngp, "_one_network", one_network)


def _linearize_sign(mp):
    # f_lin(θ) = f(θ_0) - J (θ - θ_0)
    orig = linearized.linearize

    def linearize(apply_fn, params0):
        lin = orig(apply_fn, params0)
        return lambda params, x: 2 * apply_fn(params0, x) - lin(params, x)

    _set_everywhere(mp, linearized, "linearize", linearize)


def _rk4_stage(mp):
    # RK4 with its third stage taken from k1 instead of k2 (k3 = k2): y + (h/6)(k1 + 4 k2 + k4), second order
    mp.setattr(odes, "_rk4", _rk4_k3_from_k1)


@functools.partial(jax.jit, static_argnames=("rhs",))
def _rk4_k3_from_k1(rhs, y0, ts, steps, args):
    """``ntkbook.odes._rk4`` with ``k3 = f(y + h k1/2)`` (the rest copied unchanged)."""

    def one_interval(y, t_pair):
        t0, t1 = t_pair
        h = (t1 - t0) / steps

        def step(k, y):
            t = t0 + k * h
            k1 = rhs(y, t, *args)
            k2 = rhs(y + 0.5 * h * k1, t + 0.5 * h, *args)
            k3 = rhs(y + 0.5 * h * k1, t + 0.5 * h, *args)  # the mutation: k2 in the library
            k4 = rhs(y + h * k3, t + h, *args)
            return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        y = jax.lax.fori_loop(0, steps, step, y)
        return y, y

    _, ys = jax.lax.scan(one_interval, y0, (ts[:-1], ts[1:]))
    return jnp.concatenate([y0[None], ys], axis=0)


C01, C02, C03, C04 = "01-jacobians/", "02-odes/", "03-clt/", "04-taylor/"
C06, C08, C09, C10, C11 = (
    "06-gaussian-processes/",
    "08-ntk/",
    "09-nngp/",
    "10-deterministic-ntk/",
    "11-linearized-models/",
)

# Each mutation runs the cheapest claim measured to catch it; ``also`` lists the others measured to catch it.
_MC_NNGP_DEPTH2 = C09 + "conditional_covariance_mean"  # 2000 networks of width 32: Σ^(2) to ~1e-4
_MC_NNGP_VARIANCE = C09 + "next_variance"  # Var Ã^(2)(x): Σ^(2)(x, x) to ~1%
_MC_NNGP_DEPTH3 = C09 + "output_covariance"  # Σ^(3) to ~1%
_MC_NTK_DEPTH3 = C10 + "recursion_matches_networks"  # K^(3) of relu, erf, tanh to ~2-5%

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "drop-beta2",
        "recursion: Σ^(l+1) = E[σσ] (the + β² dropped)",
        _drop_beta2,
        (_MC_NNGP_DEPTH2,),
        also=(_MC_NNGP_DEPTH3, _MC_NTK_DEPTH3),
    ),
    Mutation(
        "lag-sigma-dot",
        "recursion: K^(l+1) = Σ^(l+1) + K^(l) Σ̇^(l) (Σ̇ one layer late)",
        _lag_sigma_dot,
        (_MC_NTK_DEPTH3,),
    ),
    Mutation(
        "double-sigma-dot",
        "recursion: K^(l+1) = Σ^(l+1) + 2 K^(l) Σ̇^(l+1)",
        _double_sigma_dot,
        (_MC_NTK_DEPTH3,),
    ),
    Mutation(
        "swap-sigma-k",
        "recursion returns (K, Σ) for (Σ, K)",
        _swap_outputs,
        (_MC_NNGP_VARIANCE,),
        also=(_MC_NNGP_DEPTH2, _MC_NNGP_DEPTH3, _MC_NTK_DEPTH3),
    ),
    Mutation(
        "sigma-for-k",
        "recursion: K^(l+1) = Σ^(l+1) + Σ^(l) Σ̇^(l+1) (Σ where K belongs)",
        _sigma_for_k,
        (_MC_NTK_DEPTH3,),
    ),
    Mutation(
        "nngp-factor-2",
        "recursion: Σ^(l+1) = 2 E[σσ] + β² (σ_w² = 2), diagonal included",
        _nngp_factor,
        (_MC_NNGP_VARIANCE,),
        also=(_MC_NNGP_DEPTH2, _MC_NNGP_DEPTH3, _MC_NTK_DEPTH3),
    ),
    Mutation(
        "diagonal-factor-2",
        "recursion: only the carried diagonal Σ(x, x) = 2 E[σ(u)²] + β²",
        _diagonal_factor,
        (_MC_NNGP_DEPTH3,),
        also=(_MC_NTK_DEPTH3,),
    ),
    Mutation("nngp-2-percent", "Σ^(L) 2% too large (L >= 2)", _nngp_two_percent, (_MC_NNGP_DEPTH2,)),
    Mutation(
        "ntk-2-percent",
        "K^(L) 2% too large (L >= 2)",
        _ntk_two_percent,
        (C10 + "mean_ntk_exact",),
    ),
    Mutation(
        "relu-theta",
        "ReLU arc-cosine kernels with θ in place of π - θ",
        _relu_theta,
        (_MC_NNGP_VARIANCE,),
        also=(C09 + "quadrature_relu_rate", C09 + "closed_forms_monte_carlo", C10 + "lln_limits", _MC_NTK_DEPTH3),
    ),
    Mutation(
        "relu-sigma-dot-factor",
        "ReLU E[σ'σ'] = (π - θ)/π (the 1/2 dropped)",
        _relu_sigma_dot_factor,
        (_MC_NTK_DEPTH3,),
        also=(C09 + "quadrature_relu_rate", C10 + "lln_limits", C09 + "closed_forms_monte_carlo"),
    ),
    Mutation(
        "relu-variance-factor",
        "ReLU E[σ(u)²] = v (the 1/2 dropped, diagonal only)",
        _relu_variance_factor,
        (_MC_NNGP_DEPTH3,),
        also=(C09 + "second_moment",),
    ),
    Mutation(
        "erf-factor",
        "erf kernel with its factors 2 dropped (the kernel of erf(u/√2))",
        _erf_factor,
        (C09 + "quadrature_smooth",),
        also=(C09 + "closed_forms_monte_carlo", _MC_NTK_DEPTH3),
    ),
    Mutation(
        "first-layer-n0",
        "Σ^(1) = x·x' + β² (the 1/n_0 dropped)",
        _first_layer_n0,
        (C10 + "k1_equals_sigma1",),
        also=(C09 + "sigma1", _MC_NNGP_VARIANCE),
    ),
    Mutation(
        "hidden-covariance-sqrt-n",
        "finite network's covariance A·A'/√n + β² (the CLT's scaling where the LLN's belongs)",
        _hidden_covariance_sqrt_n,
        (_MC_NNGP_DEPTH2,),
    ),
    Mutation(
        "empirical-ntk-no-1/n",
        "layerwise empirical NTK: A·A' + β² (the 1/n_l dropped)",
        _empirical_ntk_no_1_over_n,
        (_MC_NTK_DEPTH3,),
        also=(C08 + "feature_map_psd", C08 + "strategies_agree"),
    ),
    Mutation(
        "empirical-ntk-weights-only",
        "empirical NTK J Jᵀ over the weights only (bias leaves dropped)",
        _empirical_ntk_weights_only,
        (C10 + "k1_equals_sigma1",),
        also=(C08 + "entrywise_formula", C08 + "strategies_agree"),
    ),
    Mutation(
        "finite-identity-no-1/n",
        "finite-width identity: back-propagated term without its 1/n",
        _finite_identity_no_1_over_n,
        (C10 + "source_entrywise",),
        also=(C10 + "finite_width_identity",),
    ),
    Mutation(
        "mse-no-1/N",
        "MSE dynamics D_t = exp(-ηKt), (I - ηK)^t (the 1/N dropped)",
        _mse_no_1_over_n,
        (C11 + "discrete_closed_form",),
        also=(C11 + "flow_closed_form",),
    ),
    Mutation(
        "flow-sign",
        "gradient flow df/dt = +ηK(f - Y)/N (decay exp(+aλt), (1 + aλ)^t)",
        _flow_sign,
        (C11 + "discrete_closed_form",),
        also=(C11 + "parameter_closed_form", C11 + "flow_closed_form"),
    ),
    Mutation(
        "output-velocity-sign", "output ODE df/dt = +(1/N) Σ K ∇_f l", _output_velocity_sign, (C08 + "output_ode",)
    ),
    Mutation("linear-flow-sign", "linear flow g(t) = e^{+At} g(0)", _linear_flow_sign, (C02 + "linear_flow",)),
    Mutation(
        "mse-transpose",
        "MSE dynamics: V (f_0 - Y) for Vᵀ (f_0 - Y) (a transpose dropped)",
        _mse_transpose,
        (C11 + "discrete_closed_form",),
        also=(C11 + "flow_closed_form",),
    ),
    Mutation("linearize-sign", "f_lin = f(θ_0) - J (θ - θ_0)", _linearize_sign, (C11 + "linearize",)),
    Mutation(
        "gp-posterior-sign",
        "GP posterior covariance K_** + K_*ᵀ K⁻¹ K_*",
        _gp_posterior_sign,
        (C06 + "noise_free_interpolation",),
        also=(C06 + "posterior_matches_formula", C06 + "posterior_regression"),
    ),
    Mutation("chain-rule-transpose", "chain rule J_g(f(x))ᵀ J_f(x)", _chain_rule_transpose, (C01 + "chain_rule",)),
    Mutation(
        "taylor-order",
        "Taylor model of order n missing its last term (remainder O(r^n))",
        _taylor_order,
        (C04 + "remainder_rates_function",),
    ),
    Mutation("taylor-half", "second-order model without the 1/2", _taylor_half, (C04 + "remainder_rates_network",)),
    Mutation(
        "clt-scaling",
        "sample mean (1/√N) Σ x_i instead of (1/N) Σ x_i",
        _clt_scaling,
        (C03 + "expectation_as_written",),
        also=(C03 + "mean_variance_mc", C03 + "variance_slope", C03 + "multivariate_covariance"),
    ),
    Mutation(
        "rk4-stage",
        "RK4 with k3 = f(y + h k1/2) (second order)",
        _rk4_stage,
        (C02 + "rk4_order",),
        also=(C02 + "numeric_matches_closed_form", C02 + "linear_flow"),
    ),
)


# --------------------------------------------------------------------------- running claims under a mutation


@dataclasses.dataclass
class Outcome:
    """What one claim did: ``"pass"``, ``"fail"`` (a check not as expected, or ``ClaimFailed``) or
    ``"error"`` (another exception), the first failing check, and the seconds it took."""

    status: str
    check: CheckResult | None = None
    message: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        if self.check is not None:
            r = self.check
            return f"{r.what}: error {r.error:.3g} vs tol {r.tolerance:.3g}" + ("" if r.expected else " (expect=False)")
        return self.message


def _clear_caches() -> None:
    """Every compiled program and every ``functools`` cache of the package (see the module docstring)."""
    jax.clear_caches()
    for name, mod in list(sys.modules.items()):
        if name == "ntkbook" or name.startswith("ntkbook."):
            for obj in list(vars(mod).values()):
                clear = getattr(obj, "cache_clear", None)
                if callable(clear):
                    clear()


def run_claim(claim_id: str) -> Outcome:
    """Run one registered claim's check function directly (bypassing the registry's per-process results)."""
    start = time.perf_counter()
    try:
        out = registry()[claim_id].fn()
    except ClaimFailed as exc:
        return Outcome("fail", message=str(exc).splitlines()[0], seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - a crash is reported, not counted as a catch
        return Outcome("error", message=f"{type(exc).__name__}: {exc}"[:200], seconds=time.perf_counter() - start)
    results = [out] if isinstance(out, CheckResult) else list(out)
    bad = [r for r in results if not r.ok]
    return Outcome("fail" if bad else "pass", bad[0] if bad else None, seconds=time.perf_counter() - start)


def run_mutated(mutation: Mutation, claim_ids, *, stop_at_first: bool = True) -> dict[str, Outcome]:
    """Apply ``mutation``, run ``claim_ids`` (until the first failure, by default), undo it; isolated as the
    module docstring says."""
    saved = dict(_registry._RESULTS)
    outcomes: dict[str, Outcome] = {}
    _clear_caches()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mutation.patch(mp)
            for cid in claim_ids:
                outcomes[cid] = run_claim(cid)
                if stop_at_first and outcomes[cid].status == "fail":
                    break
    finally:
        _clear_caches()
        _registry._RESULTS.clear()
        _registry._RESULTS.update(saved)
    return outcomes


# --------------------------------------------------------------------------- the tests

_TABLE: dict[str, tuple[Mutation, dict[str, Outcome]]] = {}


@pytest.fixture(scope="module", autouse=True)
def _persistent_compilation_cache(tmp_path_factory):
    """XLA's persistent compilation cache for this module only. Every mutation clears JAX's in-memory caches
    (twice), so without it each mutated run would compile again every program its claims use -- the
    network draws and NTKs of the Monte Carlo claims -- although only the mutated kernel's program
    changed. The persistent cache is keyed by the compiled program itself (its HLO and options), so the
    unchanged programs are loaded instead of compiled and a mutated program can never be mistaken for the
    original (measured: a claim run after clearing the caches, 23 s -> 6 s)."""
    from jax.experimental.compilation_cache import compilation_cache

    names = (
        "jax_compilation_cache_dir",
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    )
    saved = {name: getattr(jax.config, name) for name in names}
    compilation_cache.reset_cache()
    jax.config.update(names[0], str(tmp_path_factory.mktemp("xla-cache")))
    jax.config.update(names[1], 0.0)
    jax.config.update(names[2], -1)
    try:
        yield
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)
        compilation_cache.reset_cache()


@pytest.fixture(scope="module")
def unmutated() -> dict[str, Outcome]:
    """Every catcher claim's verdict on the unbroken library, as the chapters store it: the reference that
    makes a failure under a mutation the mutation's doing. Read, not run again: nbval (in ``make test``)
    re-executes every chapter and compares these very outputs, and tests/test_ledger.py holds them to the
    registry (no claim stale or missing), so a stored pass is today's pass -- and the suite saves the
    minute that running the catchers twice would cost."""
    from ntkbook.claims.ledger import _ok, stored_results

    stored = stored_results()
    out = {}
    for cid in dict.fromkeys(cid for m in MUTATIONS for cid in m.catchers):
        checks = stored.get(cid)
        if not checks:
            out[cid] = Outcome("error", message="no stored result: run `make execute` on its chapter")
            continue
        bad = [f for f in checks if not _ok(f)]
        out[cid] = Outcome("fail" if bad else "pass", message=str(bad[0]) if bad else "")
    return out


def test_catchers_pass_unmutated(unmutated):
    failing = {cid: o.summary() for cid, o in unmutated.items() if o.status != "pass"}
    assert not failing, f"claims that fail without any mutation (the mutation tests mean nothing for them): {failing}"


def _params(mutations):
    for m in mutations:
        marks = [pytest.mark.xfail(strict=True, reason=f"gap: {m.gap}")] if m.gap else []
        yield pytest.param(m, id=m.name, marks=marks)


@pytest.mark.parametrize("mutation", list(_params(MUTATIONS)))
def test_mutation_is_caught(mutation: Mutation, unmutated):
    assert all(unmutated[cid].status == "pass" for cid in mutation.catchers), "a catcher fails unmutated"
    outcomes = run_mutated(mutation, mutation.catchers)
    _TABLE[mutation.name] = (mutation, outcomes)
    caught = [cid for cid, o in outcomes.items() if o.status == "fail"]
    assert caught, f"{mutation.what}: no claim fails: " + "; ".join(
        f"{cid} {o.status} {o.summary()}" for cid, o in outcomes.items()
    )


def test_copied_loop_is_the_library_loop():
    """The one mutation written as a copy of the library's loop (:func:`_loop`) is that loop when unmutated."""
    x = jnp.asarray([[1.0, 0.5, -0.3], [0.6, 1.1, 0.2], [-0.9, -0.2, 0.4]])
    cov, v1, v2, b2 = _fast.first_layer(x, None, 0.3)
    layer = _fast.closed_form("relu")
    want = jax.jit(lambda *a: _fast.recursion(*a, depth=3, layer=layer))(cov, v1, v2, b2)
    got = jax.jit(lambda *a: _loop(*a, depth=3, layer=layer))(cov, v1, v2, b2)
    for a, b in zip(got, want):
        assert jnp.array_equal(a, b)


def teardown_module(module):
    """The mutation table (visible with ``pytest -s``): each mutation, the claim that caught it and how, and
    the other claims measured to catch it."""
    if not _TABLE:
        return
    lines = ["", "mutation: formula broken -> claim that caught it [first failing check: error vs tolerance]"]
    for name, (m, outcomes) in _TABLE.items():
        caught = [(cid, o) for cid, o in outcomes.items() if o.status == "fail"]
        lines.append(f"  {name}: {m.what}")
        if caught:
            cid, o = caught[0]
            lines.append(f"      -> {cid} [{o.summary()}]")
        else:
            lines.append(f"      -> GAP, not caught by {', '.join(outcomes)}: {m.gap}")
        if m.also:
            lines.append(f"      also caught by: {', '.join(m.also)}")
    print("\n".join(lines))
