"""Bad inputs to the public functions of every module: each raises ``TypeError``/``ValueError``
whose message names the offending argument -- never a deep JAX trace, never a silent NaN.

Each case is ``(id, call, error type, argument name)``; the test asserts the error type and that
the argument's name appears in the message as a word. The kinds of bad input covered, across
modules: wrong ranks and mismatched sizes, depth < 1, negative beta or widths, non-finite inputs,
unknown activation names, non-callable functions, learning rate <= 0, bad PRNG keys.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import activations, clt, gp, jacobians, odes, validate

NAN = float("nan")
INF = float("inf")
KEY = jax.random.key(0)


def sin(x):
    return jnp.sin(x)


X3 = jnp.array([0.1, -0.2, 0.3])
TS = jnp.linspace(0.0, 1.0, 3)
PSD = jnp.diag(jnp.array([2.0, 1.0, 0.5, 0.0, 0.0]))  # symmetric PSD, 5 x 5, rank 3
XG = jnp.linspace(-1.0, 1.0, 4)
KG = gp.rbf_kernel(XG, XG)
KC = gp.rbf_kernel(XG, XG[:2])
KT = gp.rbf_kernel(XG[:2], XG[:2])


def expect_error(call, exc, arg):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    assert re.search(rf"(?<![\w]){re.escape(arg)}(?![\w])", msg), f"message does not name {arg!r}: {msg}"
    assert "Traceback" not in msg
    return msg


# --------------------------------------------------------------------------- validate, activations

VALIDATE_CASES = [
    ("as_array/string", lambda: validate.as_array("abc", "x"), TypeError, "x"),
    ("as_array/None", lambda: validate.as_array(None, "x"), TypeError, "x"),
    ("as_array/complex", lambda: validate.as_array(jnp.array([1j]), "x"), TypeError, "x"),
    ("as_array/ragged", lambda: validate.as_array([[1.0, 2.0], [3.0]], "x"), TypeError, "x"),
    ("as_array/rank", lambda: validate.as_array(jnp.ones((2, 2)), "x", ndim=1), ValueError, "x"),
    ("as_array/nan", lambda: validate.as_array([1.0, NAN], "x"), ValueError, "x"),
    ("as_array/inf", lambda: validate.as_array([1.0, -INF], "x"), ValueError, "x"),
    ("as_callable", lambda: validate.as_callable(3, "f"), TypeError, "f"),
    ("positive_int/float", lambda: validate.positive_int(2.0, "depth"), TypeError, "depth"),
    ("positive_int/bool", lambda: validate.positive_int(True, "depth"), TypeError, "depth"),
    ("positive_int/zero", lambda: validate.positive_int(0, "depth"), ValueError, "depth"),
    ("positive_float/zero", lambda: validate.positive_float(0.0, "learning_rate"), ValueError, "learning_rate"),
    ("positive_float/negative", lambda: validate.positive_float(-1e-3, "learning_rate"), ValueError, "learning_rate"),
    ("positive_float/nan", lambda: validate.positive_float(NAN, "learning_rate"), ValueError, "learning_rate"),
    ("positive_float/str", lambda: validate.positive_float("0.1", "learning_rate"), TypeError, "learning_rate"),
    (
        "positive_float/negative-allow-zero",
        lambda: validate.positive_float(-1.0, "beta", allow_zero=True),
        ValueError,
        "beta",
    ),
    ("prng_key/int", lambda: validate.prng_key(3), TypeError, "key"),
    ("prng_key/float-array", lambda: validate.prng_key(np.array([1.0, 2.0])), TypeError, "key"),
    ("prng_key/None", lambda: validate.prng_key(None), TypeError, "key"),
    ("prng_key/object", lambda: validate.prng_key(object()), TypeError, "key"),
    ("activations.get/unknown", lambda: activations.get("softplus"), ValueError, "activation"),
    ("activations.get/unknown-named", lambda: activations.get("nope", name="phi"), ValueError, "phi"),
    ("activations.get/int", lambda: activations.get(3), TypeError, "activation"),
    ("activations.get/None", lambda: activations.get(None), TypeError, "activation"),
    ("activations.name_of/unknown", lambda: activations.name_of("swish"), ValueError, "activation"),
]

# --------------------------------------------------------------------------- chapter 1: jacobians

JACOBIAN_CASES = [
    ("jacobian/f-not-callable", lambda: jacobians.jacobian("sin", X3), TypeError, "f"),
    ("jacobian/x-rank", lambda: jacobians.jacobian(sin, jnp.ones((2, 2))), ValueError, "x"),
    ("jacobian/x-scalar", lambda: jacobians.jacobian(sin, 1.0), ValueError, "x"),
    ("jacobian/x-empty", lambda: jacobians.jacobian(sin, jnp.ones(0)), ValueError, "x"),
    ("jacobian/x-nan", lambda: jacobians.jacobian(sin, jnp.array([0.1, NAN])), ValueError, "x"),
    ("jacobian/x-complex", lambda: jacobians.jacobian(sin, jnp.array([1j, 2.0])), TypeError, "x"),
    ("jacobian/f-matrix-output", lambda: jacobians.jacobian(lambda x: jnp.outer(x, x), X3), ValueError, "f"),
    ("jacobian/mode", lambda: jacobians.jacobian(sin, X3, mode="central"), ValueError, "mode"),
    ("gradient/f-not-callable", lambda: jacobians.gradient(None, X3), TypeError, "f"),
    (
        "finite_difference_jacobian/step-negative",
        lambda: jacobians.finite_difference_jacobian(sin, X3, step=-1e-3),
        ValueError,
        "step",
    ),
    (
        "finite_difference_jacobian/step-nan",
        lambda: jacobians.finite_difference_jacobian(sin, X3, step=NAN),
        ValueError,
        "step",
    ),
    (
        "finite_difference_error_bound/step-negative",
        lambda: jacobians.finite_difference_error_bound(-1e-3, third_derivative=1.0, value=1.0),
        ValueError,
        "step",
    ),
    (
        "finite_difference_error_bound/step-zero",
        lambda: jacobians.finite_difference_error_bound(0.0, third_derivative=1.0, value=1.0),
        ValueError,
        "step",
    ),
    (
        "finite_difference_error_bound/step-nan",
        lambda: jacobians.finite_difference_error_bound(NAN, third_derivative=1.0, value=1.0),
        ValueError,
        "step",
    ),
    (
        "finite_difference_error_bound/M3-negative",
        lambda: jacobians.finite_difference_error_bound(1e-3, third_derivative=-1.0, value=1.0),
        ValueError,
        "third_derivative",
    ),
    (
        "finite_difference_error_bound/M0-nan",
        lambda: jacobians.finite_difference_error_bound(1e-3, third_derivative=1.0, value=NAN),
        ValueError,
        "value",
    ),
    ("jvp/u-shape", lambda: jacobians.jvp(sin, X3, jnp.ones(2)), ValueError, "u"),
    ("jvp/u-nan", lambda: jacobians.jvp(sin, X3, jnp.array([1.0, NAN, 1.0])), ValueError, "u"),
    ("vjp/v-shape", lambda: jacobians.vjp(sin, X3, jnp.ones(4)), ValueError, "v"),
    ("vjp/v-rank", lambda: jacobians.vjp(sin, X3, jnp.ones((3, 1))), ValueError, "v"),
    ("chain_rule_jacobian/g-not-callable", lambda: jacobians.chain_rule_jacobian(1.0, sin, X3), TypeError, "g"),
    (
        "chain_rule_jacobian/g-matrix-output",
        lambda: jacobians.chain_rule_jacobian(lambda y: jnp.outer(y, y), sin, X3),
        ValueError,
        "g",
    ),
]

# --------------------------------------------------------------------------- chapter 2: odes

ODE_CASES = [
    ("integrate/rhs-not-callable", lambda: odes.integrate(3, 1.0, TS, 1.0), TypeError, "rhs"),
    ("integrate/y0-nan", lambda: odes.integrate(odes.scalar_rhs, NAN, TS, 1.0), ValueError, "y0"),
    ("integrate/args-nan", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, NAN), ValueError, "args[0]"),
    ("integrate/ts-rank", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS[None], 1.0), ValueError, "ts"),
    ("integrate/ts-decreasing", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS[::-1], 1.0), ValueError, "ts"),
    ("integrate/ts-single", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS[:1], 1.0), ValueError, "ts"),
    ("integrate/ts-inf", lambda: odes.integrate(odes.scalar_rhs, 1.0, jnp.array([0.0, INF]), 1.0), ValueError, "ts"),
    ("integrate/rhs-shape", lambda: odes.integrate(lambda y, t: jnp.ones(3), jnp.ones(2), TS), ValueError, "rhs"),
    ("integrate/steps-zero", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, 1.0, steps=0), ValueError, "steps"),
    ("integrate/steps-float", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, 1.0, steps=2.5), TypeError, "steps"),
    ("integrate/method", lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, 1.0, method="euler"), ValueError, "method"),
    (
        "integrate/rtol",
        lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, 1.0, method="odeint", rtol=0.0),
        ValueError,
        "rtol",
    ),
    (
        "integrate/atol",
        lambda: odes.integrate(odes.scalar_rhs, 1.0, TS, 1.0, method="odeint", atol=-1.0),
        ValueError,
        "atol",
    ),
    ("rk4_stability_polynomial/nan", lambda: odes.rk4_stability_polynomial(NAN), ValueError, "z"),
    ("rk4_global_error_bound/h", lambda: odes.rk4_global_error_bound(1.0, 0.0, 1), ValueError, "h"),
    ("rk4_global_error_bound/n", lambda: odes.rk4_global_error_bound(1.0, 0.1, 0), ValueError, "n"),
    ("rk4_global_error_bound/a-nan", lambda: odes.rk4_global_error_bound(NAN, 0.1, 1), ValueError, "a"),
    ("linear_flow/A-rectangular", lambda: odes.linear_flow(jnp.ones((2, 3)), jnp.ones(2), TS), ValueError, "A"),
    ("linear_flow/A-rank", lambda: odes.linear_flow(jnp.ones(2), jnp.ones(2), TS), ValueError, "A"),
    (
        "linear_flow/A-asymmetric",
        lambda: odes.linear_flow(jnp.array([[1.0, 2.0], [0.0, 1.0]]), jnp.ones(2), TS),
        ValueError,
        "A",
    ),
    ("linear_flow/A-indefinite", lambda: odes.linear_flow(-jnp.eye(2), jnp.ones(2), TS), ValueError, "A"),
    ("linear_flow/A-nan", lambda: odes.linear_flow(jnp.full((2, 2), NAN), jnp.ones(2), TS), ValueError, "A"),
    ("linear_flow/g0-rows", lambda: odes.linear_flow(PSD, jnp.ones(3), TS), ValueError, "g0"),
    ("linear_flow/g0-rank", lambda: odes.linear_flow(PSD, jnp.ones((5, 1, 1)), TS), ValueError, "g0"),
    ("linear_flow/ts-nan", lambda: odes.linear_flow(PSD, jnp.ones(5), jnp.array([0.0, NAN])), ValueError, "ts"),
    ("linear_flow/ts-overflow", lambda: odes.linear_flow(PSD, jnp.ones(5), -1e5), ValueError, "ts"),
    ("linear_flow/tol", lambda: odes.linear_flow(PSD, jnp.ones(5), TS, tol=-1.0), ValueError, "tol"),
    ("expm_flow/A-rectangular", lambda: odes.expm_flow(jnp.ones((2, 3)), jnp.ones(2), TS), ValueError, "A"),
    ("expm_flow/g0-rows", lambda: odes.expm_flow(PSD, jnp.ones(3), TS), ValueError, "g0"),
    ("expm_flow/ts-overflow", lambda: odes.expm_flow(PSD, jnp.ones(5), -1e5), ValueError, "ts"),
    (
        "as_symmetric_matrix/A-asymmetric",
        lambda: odes.as_symmetric_matrix(jnp.array([[1.0, 2.0], [0.0, 1.0]])),
        ValueError,
        "A",
    ),
    ("as_symmetric_matrix/tol", lambda: odes.as_symmetric_matrix(PSD, tol=0.0), ValueError, "tol"),
]

# --------------------------------------------------------------------------- chapter 3: clt

UNIFORM = clt.uniform().sampler

CLT_CASES = [
    ("exponential/rate-zero", lambda: clt.exponential(0.0), ValueError, "rate"),
    ("exponential/rate-nan", lambda: clt.exponential(NAN), ValueError, "rate"),
    ("bernoulli/p-one", lambda: clt.bernoulli(1.0), ValueError, "p"),
    ("bernoulli/p-zero", lambda: clt.bernoulli(0.0), ValueError, "p"),
    ("sample_means/sampler", lambda: clt.sample_means(3, (1, 2), 10, key=KEY), TypeError, "sampler"),
    ("sample_means/sizes-empty", lambda: clt.sample_means(UNIFORM, (), 10, key=KEY), ValueError, "sizes"),
    ("sample_means/sizes-zero", lambda: clt.sample_means(UNIFORM, (0,), 10, key=KEY), ValueError, "sizes"),
    ("sample_means/sizes-scalar", lambda: clt.sample_means(UNIFORM, 3, 10, key=KEY), TypeError, "sizes"),
    ("sample_means/reps", lambda: clt.sample_means(UNIFORM, (1,), 0, key=KEY), ValueError, "reps"),
    ("sample_means/key", lambda: clt.sample_means(UNIFORM, (1,), 3, key=5), TypeError, "key"),
    (
        "sample_means/batch_size",
        lambda: clt.sample_means(UNIFORM, (1,), 3, key=KEY, batch_size=0),
        ValueError,
        "batch_size",
    ),
    (
        "sample_means/nan-draws",
        lambda: clt.sample_means(lambda k, s: jnp.full(s, jnp.nan), (1,), 3, key=KEY),
        ValueError,
        "sampler",
    ),
    ("moments/nan", lambda: clt.moments(jnp.array([1.0, NAN])), ValueError, "x"),
    ("moments/scalar", lambda: clt.moments(1.0), ValueError, "x"),
    ("moments/one-row", lambda: clt.moments(jnp.ones((1, 3))), ValueError, "x"),
    ("moments/constant", lambda: clt.moments(jnp.ones(10)), ValueError, "x"),
    (
        "batch_stderr/n_batches",
        lambda: clt.batch_stderr(jnp.arange(100.0), jnp.mean, n_batches=1),
        ValueError,
        "n_batches",
    ),
    ("batch_stderr/rows", lambda: clt.batch_stderr(jnp.arange(10.0), jnp.mean, n_batches=40), ValueError, "x"),
    ("batch_stderr/stat", lambda: clt.batch_stderr(jnp.arange(100.0), "mean"), TypeError, "stat"),
    (
        "standardized_moments/dist",
        lambda: clt.standardized_moments("exponential", (1,), 100, key=KEY),
        TypeError,
        "dist",
    ),
    (
        "propagated_slope_stderr/shape",
        lambda: clt.propagated_slope_stderr([1, 2, 3], [0.1, 0.1]),
        ValueError,
        "rel_stderr",
    ),
    ("propagated_slope_stderr/x-negative", lambda: clt.propagated_slope_stderr([-1, 2, 3], [0.1] * 3), ValueError, "x"),
    ("propagated_slope_stderr/x-constant", lambda: clt.propagated_slope_stderr([2, 2, 2], [0.1] * 3), ValueError, "x"),
    ("propagated_slope_stderr/x-single", lambda: clt.propagated_slope_stderr([2], [0.1]), ValueError, "x"),
    (
        "propagated_slope_stderr/se-negative",
        lambda: clt.propagated_slope_stderr([1, 2], [0.1, -0.1]),
        ValueError,
        "rel_stderr",
    ),
]

# --------------------------------------------------------------------------- chapter 6: gp

GP_CASES = [
    ("rbf_kernel/x1-rank", lambda: gp.rbf_kernel(jnp.ones((2, 2, 2)), XG), ValueError, "x1"),
    ("rbf_kernel/x2-rank", lambda: gp.rbf_kernel(XG, jnp.ones((2, 2, 2))), ValueError, "x2"),
    ("rbf_kernel/dims", lambda: gp.rbf_kernel(jnp.ones((2, 2)), jnp.ones((2, 3))), ValueError, "x1"),
    ("rbf_kernel/lengthscale", lambda: gp.rbf_kernel(XG, XG, lengthscale=0.0), ValueError, "lengthscale"),
    ("rbf_kernel/variance", lambda: gp.rbf_kernel(XG, XG, variance=-1.0), ValueError, "variance"),
    ("rbf_kernel/x1-nan", lambda: gp.rbf_kernel(jnp.array([NAN]), XG), ValueError, "x1"),
    ("psd_factor/rectangular", lambda: gp.psd_factor(jnp.ones((2, 3))), ValueError, "K"),
    ("psd_factor/asymmetric", lambda: gp.psd_factor(jnp.array([[1.0, 2.0], [0.0, 1.0]])), ValueError, "K"),
    ("psd_factor/indefinite", lambda: gp.psd_factor(-jnp.eye(2)), ValueError, "K"),
    ("psd_factor/nan", lambda: gp.psd_factor(jnp.full((2, 2), NAN)), ValueError, "K"),
    ("psd_factor/scale", lambda: gp.psd_factor(KG, scale=-1.0), ValueError, "scale"),
    ("sample_prior/key", lambda: gp.sample_prior(3, KG, 2), TypeError, "key"),
    ("sample_prior/num_samples", lambda: gp.sample_prior(KEY, KG, 0), ValueError, "num_samples"),
    ("sample_prior/K-indefinite", lambda: gp.sample_prior(KEY, -jnp.eye(2), 2), ValueError, "K"),
    ("posterior/K_cross-rows", lambda: gp.posterior(KG, jnp.ones((3, 2)), KT, jnp.ones(4)), ValueError, "K_cross"),
    ("posterior/K_test-shape", lambda: gp.posterior(KG, KC, jnp.eye(3), jnp.ones(4)), ValueError, "K_test"),
    ("posterior/K_train-rank", lambda: gp.posterior(jnp.ones(4), KC, KT, jnp.ones(4)), ValueError, "K_train"),
    ("posterior/y-rows", lambda: gp.posterior(KG, KC, KT, jnp.ones(3)), ValueError, "y"),
    ("posterior/y-nan", lambda: gp.posterior(KG, KC, KT, jnp.array([1.0, 2.0, 3.0, NAN])), ValueError, "y"),
    ("posterior/noise-negative", lambda: gp.posterior(KG, KC, KT, jnp.ones(4), -1.0), ValueError, "noise"),
    ("posterior/noise-vector", lambda: gp.posterior(KG, KC, KT, jnp.ones(4), jnp.ones(2)), TypeError, "noise"),
    ("posterior/K_train-singular", lambda: gp.posterior(jnp.ones((4, 4)), KC, KT, jnp.ones(4)), ValueError, "K_train"),
    ("sample_posterior/y-2d", lambda: gp.sample_posterior(KEY, KG, KC, KT, jnp.ones((4, 1)), 3), ValueError, "y"),
    (
        "sample_posterior/num_samples",
        lambda: gp.sample_posterior(KEY, KG, KC, KT, jnp.ones(4), 0),
        ValueError,
        "num_samples",
    ),
    ("log_marginal_likelihood/y", lambda: gp.log_marginal_likelihood(KG, jnp.ones(3)), ValueError, "y"),
    (
        "log_marginal_likelihood/K-indefinite",
        lambda: gp.log_marginal_likelihood(-jnp.eye(2), jnp.ones(2)),
        ValueError,
        "K_train",
    ),
    ("second_moment/rank", lambda: gp.second_moment(jnp.ones(3)), ValueError, "samples"),
    ("covariance_stderr/num_samples", lambda: gp.covariance_stderr(KG, 0), ValueError, "num_samples"),
    (
        "covariance_stderr/negative-variance",
        lambda: gp.covariance_stderr(jnp.diag(jnp.array([-1.0, 1.0])), 4),
        ValueError,
        "K",
    ),
]

FINISHED_CASES = VALIDATE_CASES + JACOBIAN_CASES + ODE_CASES + CLT_CASES + GP_CASES


@pytest.mark.parametrize("call, exc, arg", [c[1:] for c in FINISHED_CASES], ids=[c[0] for c in FINISHED_CASES])
def test_finished_modules_refuse_bad_input(call, exc, arg):
    expect_error(call, exc, arg)


# --------------------------------------------------------------------------- chapters 4-5, 7-12

from ntkbook import kernels, lazy, mlp, nngp, ntk, taylor  # noqa: E402
from ntkbook import linearized as lin  # noqa: E402
from ntkbook.infinite_ntk import infinite_width_kernels  # noqa: E402

XB = jnp.ones((3, 2))
PARAMS = mlp.init(KEY, (2, 4, 1))
Y1 = jnp.ones((3, 1))


def net(p, z):
    return mlp.apply(p, z)


def not_elementwise(t):
    return jnp.sum(t)


KERNEL_FUNCTIONS = [("infinite_width_kernels", infinite_width_kernels), ("nngp_kernel", nngp.nngp_kernel)]

KERNEL_CASES = []
for _name, _f in KERNEL_FUNCTIONS:
    KERNEL_CASES += [
        (f"{_name}/x1-rank1", lambda f=_f: f(jnp.ones(3), depth=2), ValueError, "x1"),
        (f"{_name}/x1-rank3", lambda f=_f: f(jnp.ones((2, 2, 2)), depth=2), ValueError, "x1"),
        (f"{_name}/x2-rank1", lambda f=_f: f(XB, jnp.ones(2), depth=2), ValueError, "x2"),
        (f"{_name}/features-mismatch", lambda f=_f: f(XB, jnp.ones((2, 3)), depth=2), ValueError, "x2"),
        (f"{_name}/x1-empty", lambda f=_f: f(jnp.ones((0, 2)), depth=2), ValueError, "x1"),
        (f"{_name}/x1-nan", lambda f=_f: f(jnp.array([[NAN, 1.0]]), depth=2), ValueError, "x1"),
        (f"{_name}/x2-inf", lambda f=_f: f(XB, jnp.array([[INF, 1.0]]), depth=2), ValueError, "x2"),
        (f"{_name}/depth-zero", lambda f=_f: f(XB, depth=0), ValueError, "depth"),
        (f"{_name}/depth-negative", lambda f=_f: f(XB, depth=-3), ValueError, "depth"),
        (f"{_name}/depth-float", lambda f=_f: f(XB, depth=2.0), TypeError, "depth"),
        (f"{_name}/depth-missing", lambda f=_f: f(XB), TypeError, "depth"),
        (f"{_name}/beta-negative", lambda f=_f: f(XB, depth=2, beta=-1.0), ValueError, "beta"),
        (f"{_name}/beta-nan", lambda f=_f: f(XB, depth=2, beta=NAN), ValueError, "beta"),
        (f"{_name}/activation-unknown", lambda f=_f: f(XB, depth=2, activation="swish"), ValueError, "activation"),
        (f"{_name}/activation-not-callable", lambda f=_f: f(XB, depth=2, activation=3), TypeError, "activation"),
        (
            f"{_name}/activation-not-elementwise",
            lambda f=_f: f(XB, depth=2, activation=not_elementwise),
            ValueError,
            "activation",
        ),
        (f"{_name}/nodes-zero", lambda f=_f: f(XB, depth=2, activation="tanh", nodes=0), ValueError, "nodes"),
        (f"{_name}/nodes-too-many", lambda f=_f: f(XB, depth=2, activation="tanh", nodes=10_000), ValueError, "nodes"),
    ]

ONE = jnp.ones(1)
KERNEL_CASES += [
    ("kernel_map/method", lambda: nngp.kernel_map(jnp.ones((1, 1)), ONE, ONE, method="exact"), ValueError, "method"),
    ("kernel_map/cov-shape", lambda: nngp.kernel_map(jnp.ones((2, 1)), ONE, ONE), ValueError, "cov"),
    ("kernel_map/variance-negative", lambda: nngp.kernel_map(jnp.ones((1, 1)), -ONE, ONE), ValueError, "v1"),
    (
        "kernel_map/no-closed-form",
        lambda: nngp.kernel_map(jnp.ones((1, 1)), ONE, ONE, activation="tanh", method="closed"),
        ValueError,
        "activation",
    ),
    ("kernel_map/cov-nan", lambda: nngp.kernel_map(jnp.full((1, 1), NAN), ONE, ONE), ValueError, "cov"),
    # |cov| > sqrt(v1 v2) is no covariance: the erf map returned a NaN Σ̇ silently.
    (
        "kernel_map/cov-exceeds-variances",
        lambda: nngp.kernel_map(jnp.full((1, 1), 5.0), ONE, ONE, activation="erf"),
        ValueError,
        "cov",
    ),
    ("input_covariance/beta", lambda: nngp.input_covariance(XB, beta=-1.0), ValueError, "beta"),
]

NETWORK_CASES = [
    ("mlp.init/width-negative", lambda: mlp.init(KEY, (2, -1, 1)), ValueError, "widths[1]"),
    ("mlp.init/width-zero", lambda: mlp.init(KEY, (2, 0, 1)), ValueError, "widths[1]"),
    ("mlp.init/one-width", lambda: mlp.init(KEY, (2,)), ValueError, "widths"),
    ("mlp.init/widths-str", lambda: mlp.init(KEY, "23"), TypeError, "widths"),
    ("mlp.init/width-float", lambda: mlp.init(KEY, (2, 3.0, 1)), TypeError, "widths[1]"),
    ("mlp.init/key", lambda: mlp.init(3, (2, 3, 1)), TypeError, "key"),
    ("mlp.init/dtype", lambda: mlp.init(KEY, (2, 3, 1), dtype=jnp.int32), TypeError, "dtype"),
    ("mlp.num_params/one-width", lambda: mlp.num_params((3,)), ValueError, "widths"),
    ("mlp.apply/x-features", lambda: mlp.apply(PARAMS, jnp.ones((3, 3))), ValueError, "x"),
    ("mlp.apply/x-rank", lambda: mlp.apply(PARAMS, jnp.ones((3, 2, 2))), ValueError, "x"),
    ("mlp.apply/x-nan", lambda: mlp.apply(PARAMS, jnp.array([[NAN, 1.0]])), ValueError, "x"),
    ("mlp.apply/beta-negative", lambda: mlp.apply(PARAMS, XB, beta=-1.0), ValueError, "beta"),
    ("mlp.apply/activation", lambda: mlp.apply(PARAMS, XB, activation="swish"), ValueError, "activation"),
    ("mlp.apply/params-keys", lambda: mlp.apply([{"w": jnp.ones((2, 3))}], XB), TypeError, "params[0]"),
    (
        "mlp.apply/params-chain",
        lambda: mlp.apply([{"w": jnp.ones((2, 3)), "b": jnp.ones(3)}, {"w": jnp.ones((4, 1)), "b": jnp.ones(1)}], XB),
        ValueError,
        "params[1]['w']",
    ),
    ("mlp.apply/params-None", lambda: mlp.apply(None, XB), TypeError, "params"),
    # Non-finite parameters gave a NaN output silently.
    (
        "mlp.apply/params-nan",
        lambda: mlp.apply([{"w": jnp.full((2, 1), NAN), "b": jnp.ones(1)}], XB),
        ValueError,
        "params",
    ),
    ("mlp.forward/beta-negative", lambda: mlp.forward(PARAMS, XB, beta=-0.5), ValueError, "beta"),
    ("empirical_ntk/apply_fn", lambda: ntk.empirical_ntk(3, PARAMS, XB), TypeError, "apply_fn"),
    ("empirical_ntk/strategy", lambda: ntk.empirical_ntk(net, PARAMS, XB, strategy="fast"), ValueError, "strategy"),
    ("empirical_ntk/output", lambda: ntk.empirical_ntk(net, PARAMS, XB, output="sum"), ValueError, "output"),
    ("empirical_ntk/chunk", lambda: ntk.empirical_ntk(net, PARAMS, XB, chunk=0), ValueError, "chunk"),
    ("empirical_ntk/x1-rank", lambda: ntk.empirical_ntk(net, PARAMS, jnp.ones(2)), ValueError, "x1"),
    ("empirical_ntk/features-mismatch", lambda: ntk.empirical_ntk(net, PARAMS, XB, jnp.ones((2, 3))), ValueError, "x2"),
    ("empirical_ntk/x1-nan", lambda: ntk.empirical_ntk(net, PARAMS, jnp.array([[NAN, 1.0]])), ValueError, "x1"),
    (
        "empirical_ntk/params-int",
        lambda: ntk.empirical_ntk(net, [{"w": jnp.ones((2, 1), int), "b": jnp.ones(1, int)}], XB),
        TypeError,
        "params",
    ),
    (
        "empirical_ntk/apply_fn-output",
        lambda: ntk.empirical_ntk(lambda p, z: jnp.sum(z), PARAMS, XB),
        ValueError,
        "apply_fn",
    ),
    (
        "empirical_ntk/layerwise-without-config",
        lambda: ntk.empirical_ntk(net, PARAMS, XB, strategy="layerwise"),
        ValueError,
        "mlp_config",
    ),
    (
        "empirical_ntk/mlp_config-keys",
        lambda: ntk.empirical_ntk(net, PARAMS, XB, mlp_config={"act": "relu"}),
        ValueError,
        "mlp_config",
    ),
    ("empirical_ntk/x1-features", lambda: ntk.empirical_ntk(net, PARAMS, jnp.ones((3, 5))), ValueError, "x1"),
    ("mlp_ntk/beta", lambda: ntk.mlp_ntk(PARAMS, XB, beta=-1.0), ValueError, "beta"),
    ("mlp_ntk/activation", lambda: ntk.mlp_ntk(PARAMS, XB, activation="nope"), ValueError, "activation"),
    ("layerwise_ntk/x-features", lambda: ntk.layerwise_ntk(PARAMS, jnp.ones((3, 5))), ValueError, "x"),
    ("feature_map/apply_fn", lambda: ntk.feature_map(None, PARAMS, XB), TypeError, "apply_fn"),
]

CHAPTER_CASES = [
    ("kernels.linear/rank", lambda: kernels.linear(jnp.ones((2, 2, 2)), XB), ValueError, "x1"),
    ("kernels.linear/features", lambda: kernels.linear(XB, jnp.ones((2, 3))), ValueError, "x1"),
    ("kernels.polynomial/degree", lambda: kernels.polynomial(XB, XB, degree=0), ValueError, "degree"),
    ("kernels.polynomial/c", lambda: kernels.polynomial(XB, XB, c=-1.0), ValueError, "c"),
    ("kernels.rbf/lengthscale", lambda: kernels.rbf(XB, XB, lengthscale=0.0), ValueError, "lengthscale"),
    ("kernels.rbf/nan", lambda: kernels.rbf(jnp.array([[NAN, 1.0]]), XB), ValueError, "x1"),
    (
        "kernels.random_fourier_features/num_features",
        lambda: kernels.random_fourier_features(KEY, XB, 0),
        ValueError,
        "num_features",
    ),
    ("kernels.random_fourier_features/key", lambda: kernels.random_fourier_features(3, XB, 4), TypeError, "key"),
    (
        "kernels.kernel_ridge_fit/reg",
        lambda: kernels.kernel_ridge_fit(jnp.eye(3), jnp.ones(3), -1.0),
        ValueError,
        "reg",
    ),
    (
        "kernels.kernel_ridge_fit/singular",
        lambda: kernels.kernel_ridge_fit(jnp.ones((3, 3)), jnp.ones(3), 0.0),
        ValueError,
        "reg",
    ),
    ("kernels.kernel_ridge_fit/y", lambda: kernels.kernel_ridge_fit(jnp.eye(3), jnp.ones(2), 1.0), ValueError, "y"),
    (
        "kernels.kernel_ridge_fit/K",
        lambda: kernels.kernel_ridge_fit(jnp.ones((3, 2)), jnp.ones(3), 1.0),
        ValueError,
        "K",
    ),
    (
        "kernels.kernel_ridge_predict/K_cross",
        lambda: kernels.kernel_ridge_predict(jnp.ones((2, 3)), jnp.ones(2)),
        ValueError,
        "K_cross",
    ),
    (
        "kernels.nadaraya_watson/K_cross",
        lambda: kernels.nadaraya_watson(jnp.ones((2, 3)), jnp.ones(2)),
        ValueError,
        "K_cross",
    ),
    (
        "kernels.nadaraya_watson/zero-weights",
        lambda: kernels.nadaraya_watson(jnp.zeros((2, 3)), jnp.ones(3)),
        ValueError,
        "K_cross",
    ),
    ("kernels.is_psd/rectangular", lambda: kernels.is_psd(jnp.ones((2, 3))), ValueError, "K"),
    ("kernels.is_psd/rtol", lambda: kernels.is_psd(jnp.eye(2), rtol=-1.0), ValueError, "rtol"),
    ("kernels.min_eig_ratio/zero", lambda: kernels.min_eig_ratio(jnp.zeros((2, 2))), ValueError, "K"),
    (
        "taylor.directional_derivative/order",
        lambda: taylor.directional_derivative(jnp.sin, jnp.ones(2), jnp.ones(2), -1),
        ValueError,
        "order",
    ),
    (
        "taylor.directional_derivative/f",
        lambda: taylor.directional_derivative(3, jnp.ones(2), jnp.ones(2), 1),
        TypeError,
        "f",
    ),
    (
        "taylor.directional_derivative/u",
        lambda: taylor.directional_derivative(jnp.sin, jnp.ones(2), jnp.ones(3), 1),
        ValueError,
        "u",
    ),
    (
        "taylor.directional_derivative/a-nan",
        lambda: taylor.directional_derivative(jnp.sin, jnp.array([NAN, 1.0]), jnp.ones(2), 1),
        ValueError,
        "a",
    ),
    ("taylor.taylor_model_at/order", lambda: taylor.taylor_model_at(jnp.sin, jnp.ones(2), -1), ValueError, "order"),
    (
        "taylor.remainder_errors/radii",
        lambda: taylor.remainder_errors(jnp.sin, jnp.ones(2), jnp.ones(2), [-1.0, 0.1], 1),
        ValueError,
        "radii",
    ),
    ("linearized.linearize/apply_fn", lambda: lin.linearize(3, PARAMS), TypeError, "apply_fn"),
    ("linearized.linearize/params0", lambda: lin.linearize(net, "p"), TypeError, "params0"),
    (
        "linearized.train/learning_rate-zero",
        lambda: lin.train(net, PARAMS, XB, Y1, learning_rate=0.0, steps=2),
        ValueError,
        "learning_rate",
    ),
    (
        "linearized.train/learning_rate-negative",
        lambda: lin.train(net, PARAMS, XB, Y1, learning_rate=-1.0, steps=2),
        ValueError,
        "learning_rate",
    ),
    (
        "linearized.train/learning_rate-nan",
        lambda: lin.train(net, PARAMS, XB, Y1, learning_rate=NAN, steps=2),
        ValueError,
        "learning_rate",
    ),
    ("linearized.train/steps", lambda: lin.train(net, PARAMS, XB, Y1, learning_rate=0.1, steps=0), ValueError, "steps"),
    (
        "linearized.train/y-shape",
        lambda: lin.train(net, PARAMS, XB, jnp.ones((2, 1)), learning_rate=0.1, steps=2),
        ValueError,
        "y",
    ),
    (
        "linearized.train/y-nan",
        lambda: lin.train(net, PARAMS, XB, jnp.full((3, 1), NAN), learning_rate=0.1, steps=2),
        ValueError,
        "y",
    ),
    (
        "linearized.train/apply_fn",
        lambda: lin.train(None, PARAMS, XB, Y1, learning_rate=0.1, steps=2),
        TypeError,
        "apply_fn",
    ),
    (
        "linearized.train/record_every",
        lambda: lin.train(net, PARAMS, XB, Y1, learning_rate=0.1, steps=3, record_every=2),
        ValueError,
        "record_every",
    ),
    (
        "linearized.mse_dynamics/learning_rate",
        lambda: lin.mse_dynamics(jnp.eye(3), Y1, Y1, learning_rate=0.0, times=[1.0]),
        ValueError,
        "learning_rate",
    ),
    (
        "linearized.mse_dynamics/kernel-asymmetric",
        lambda: lin.mse_dynamics(
            jnp.array([[1.0, 2.0], [0.0, 1.0]]), jnp.ones((2, 1)), jnp.ones((2, 1)), learning_rate=1.0, times=[1.0]
        ),
        ValueError,
        "kernel",
    ),
    (
        "linearized.mse_dynamics/times-negative",
        lambda: lin.mse_dynamics(jnp.eye(3), Y1, Y1, learning_rate=1.0, times=[-1.0]),
        ValueError,
        "times",
    ),
    # The message blamed y for a wrong f0.
    (
        "linearized.mse_dynamics/f0-shape",
        lambda: lin.mse_dynamics(jnp.eye(3), jnp.ones((2, 1)), Y1, learning_rate=1.0, times=[1.0]),
        ValueError,
        "f0",
    ),
    (
        "linearized.ntk_gp/learning_rate",
        lambda: lin.ntk_gp(
            jnp.eye(1), jnp.ones((1, 2)), jnp.eye(2), jnp.ones((1, 2)), jnp.eye(2), jnp.ones((2, 1)), learning_rate=-1.0
        ),
        ValueError,
        "learning_rate",
    ),
    # The argument is `time`; the message said `times`.
    (
        "linearized.ntk_gp/time-negative",
        lambda: lin.ntk_gp(
            jnp.eye(1), jnp.ones((1, 2)), jnp.eye(2), jnp.ones((1, 2)), jnp.eye(2), jnp.ones((2, 1)), time=-1.0
        ),
        ValueError,
        "time",
    ),
    (
        "lazy.apply_parameterized/parameterization",
        lambda: lazy.apply_parameterized(PARAMS, XB, parameterization="standard"),
        ValueError,
        "parameterization",
    ),
    (
        "lazy.apply_parameterized/three-layers",
        lambda: lazy.apply_parameterized(mlp.init(KEY, (2, 3, 3, 1)), XB),
        ValueError,
        "params",
    ),
    # A negative beta was accepted silently.
    (
        "lazy.apply_parameterized/beta-negative",
        lambda: lazy.apply_parameterized(PARAMS, XB, beta=-1.0),
        ValueError,
        "beta",
    ),
    ("lazy.jacobian_norm/apply_fn", lambda: lazy.jacobian_norm(3, PARAMS, XB), TypeError, "apply_fn"),
    ("lazy.jacobian_norm/x-nan", lambda: lazy.jacobian_norm(net, PARAMS, jnp.array([[NAN, 1.0]])), ValueError, "x"),
    ("lazy.hessian_norm/key", lambda: lazy.hessian_norm(net, PARAMS, XB, key=3), TypeError, "key"),
    (
        "lazy.hessian_norm/iterations",
        lambda: lazy.hessian_norm(net, PARAMS, XB, key=KEY, iterations=0),
        ValueError,
        "iterations",
    ),
    ("lazy.kappa/y-shape", lambda: lazy.kappa(net, PARAMS, XB, jnp.ones((2, 1)), key=KEY), ValueError, "y"),
    ("lazy.kappa/y-nan", lambda: lazy.kappa(net, PARAMS, XB, jnp.full((3, 1), NAN), key=KEY), ValueError, "y"),
]

CHAPTER_MODULE_CASES = KERNEL_CASES + NETWORK_CASES + CHAPTER_CASES


@pytest.mark.parametrize(
    "call, exc, arg", [c[1:] for c in CHAPTER_MODULE_CASES], ids=[c[0] for c in CHAPTER_MODULE_CASES]
)
def test_chapter_modules_refuse_bad_input(call, exc, arg):
    expect_error(call, exc, arg)


# --------------------------------------------------------------------------- no silent NaN


def test_no_silent_nan_from_valid_extreme_inputs():
    """Valid inputs at the edge of the domain give finite results (or an error naming the argument):
    zero inputs without bias, a constant network input, a zero kernel row."""
    zero = jnp.zeros((2, 3))
    for act in ("relu", "erf", "tanh", "identity"):
        S, K = infinite_width_kernels(zero, depth=3, activation=act)
        assert bool(jnp.all(jnp.isfinite(S))) and bool(jnp.all(jnp.isfinite(K)))
    f = mlp.apply(mlp.init(KEY, (3, 5, 2)), zero, activation="relu")
    assert bool(jnp.all(jnp.isfinite(f)))
    k = ntk.mlp_ntk(mlp.init(KEY, (3, 5, 2)), zero, strategy="layerwise")
    assert bool(jnp.all(jnp.isfinite(k)))
    # A GP on a kernel matrix with duplicated inputs: noise 0 fails loudly, noise > 0 is finite.
    Kd = gp.rbf_kernel(jnp.array([0.0, 0.0, 1.0]), jnp.array([0.0, 0.0, 1.0]))
    expect_error(lambda: gp.posterior(Kd, Kd, Kd, jnp.ones(3)), ValueError, "K_train")
    assert bool(jnp.all(jnp.isfinite(gp.posterior(Kd, Kd, Kd, jnp.ones(3), 1e-6).mean)))
