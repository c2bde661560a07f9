"""Tests of the losses and studies of chapter 8 (ntkbook.chapters.c08_ntk); its claims run in the notebook (nbval)."""

import jax
import jax.numpy as jnp
import numpy as np

from ntkbook import mlp, ntk
from ntkbook.chapters import c08_ntk as ch


def _net():
    params = mlp.init(jax.random.key(0), (3, 10, 8, 2))
    x = jax.random.normal(jax.random.key(1), (4, 3))
    return params, x, ntk.mlp_apply_fn("tanh", 0.4)


def test_per_sample_losses():
    f, y = jnp.array([1.0, -2.0]), jnp.array([0.0, 1.0])
    np.testing.assert_allclose(ch.sample_squared_error(f, y), 0.5 * (1 + 9), atol=0)
    np.testing.assert_allclose(ch.cross_entropy_loss(jnp.array([0.0, 0.0]), 1), np.log(2.0), atol=1e-15)
    assert ch.LOSSES == {"mse": ch.sample_squared_error, "cross_entropy": ch.cross_entropy_loss}


def test_empirical_loss_and_output_gradients():
    params, x, fn = _net()
    y = jnp.zeros((4, 2))
    g = ch.loss_output_gradients(fn, params, x, y, ch.sample_squared_error)
    np.testing.assert_allclose(g, fn(params, x), atol=1e-15)  # grad of |f - 0|^2 / 2 is f
    np.testing.assert_allclose(
        ch.empirical_loss(fn, params, x, y), 0.5 * jnp.mean(jnp.sum(fn(params, x) ** 2, axis=1)), atol=1e-15
    )
    labels = jnp.array([0, 1, 1, 0])
    g_ce = ch.loss_output_gradients(fn, params, x, labels, ch.cross_entropy_loss)
    np.testing.assert_allclose(g_ce, jax.nn.softmax(fn(params, x)) - jax.nn.one_hot(labels, 2), atol=1e-15)


def test_gd_step_remainder_is_second_order():
    params, x, fn = _net()
    xt = jax.random.normal(jax.random.key(2), (3, 3))
    y = jax.random.normal(jax.random.key(3), (4, 2))
    etas = np.array([1e-3, 2e-3])
    r = ch.gd_step_remainder(fn, params, x, y, xt, etas)
    assert r.shape == (2,)
    assert 3.0 < r[1] / r[0] < 5.0  # ~ eta^2: doubling eta quadruples the remainder
    K = ntk.empirical_ntk(fn, params, xt, x, strategy="jacobian")
    np.testing.assert_array_equal(ch.gd_step_remainder(fn, params, x, y, xt, etas, kernel=K), r)


def test_gd_step_remainder_next_order_is_relative_eta():
    """The allowance of check_gd_step fits the next-order term eta^1 (relative): the remainder is
    c2 eta^2 + c3 eta^3 + ..., so q(eta) = remainder / eta^2 = c2 + c3 eta + O(eta^2) and its successive
    differences over eta, 2 eta, 4 eta double (they would quadruple for a relative term eta^2)."""
    params, x, fn = _net()
    xt = jax.random.normal(jax.random.key(2), (3, 3))
    y = jax.random.normal(jax.random.key(3), (4, 2))
    etas = 0.005 * np.array([1.0, 2.0, 4.0])  # remainders ~1e-6..1e-5: rounding (~1e-14) is far below
    q = ch.gd_step_remainder(fn, params, x, y, xt, etas) / etas**2
    assert 1.8 < (q[2] - q[1]) / (q[1] - q[0]) < 2.2  # measured 1.97
