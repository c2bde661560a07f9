"""Tests of the helpers of chapter 7 (ntkbook.chapters.c07_notation); its claims run in the notebook (nbval)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import mlp
from ntkbook.chapters import c07_notation as ch


def test_elementwise_reference_matches_apply():
    params = mlp.init(jax.random.key(0), (3, 4, 2))
    x = np.array([0.3, -1.2, 0.7])
    for act in ("relu", "tanh", jnp.sin):
        np.testing.assert_allclose(
            ch.elementwise_reference(params, x, activation=act, beta=0.4),
            mlp.apply(params, x, activation=act, beta=0.4),
            atol=1e-13,
        )


def test_lipschitz_constants_known_values():
    exact = ch.lipschitz_constants()
    assert exact["identity"][1] == exact["relu"][1] == 1.0
    assert exact["tanh"][1] == pytest.approx(1.0, abs=1e-15)
    assert exact["sigmoid"][1] == pytest.approx(0.25, abs=1e-15)
    assert exact["erf"][1] == pytest.approx(2 / math.sqrt(math.pi), abs=1e-15)
    # GELU: sup sigma' at t = sqrt(2), Phi(sqrt 2) + sqrt(2) phi(sqrt 2)
    phi = math.exp(-1) / math.sqrt(2 * math.pi)
    assert exact["gelu"][1] == pytest.approx(0.5 * (1 + math.erf(1)) + math.sqrt(2) * phi, abs=1e-14)


def test_lipschitz_on_grid():
    assert ch.lipschitz_on_grid("sigmoid", points=2001) == pytest.approx(0.25, abs=1e-12)
    assert ch.lipschitz_on_grid(jnp.sin, lo=0.0, hi=1.0, points=11) == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(ValueError, match="points"):
        ch.lipschitz_on_grid("tanh", points=1)


def test_ntk_of_the_standard_parameterization_is_the_ntk_gradients_rescaled():
    # d f / d w_SP = sqrt(n_l) d f / d w and d f / d b_SP = (d f / d b) / beta for w_SP = w / sqrt(n_l), b_SP = beta b.
    params = mlp.init(jax.random.key(5), (8, 16, 1))
    x = mlp.standard_normal(jax.random.key(6), (8,))
    beta = 0.5
    ntk, sp = np.asarray(ch._ntk_pair(params, x, beta))
    g = jax.grad(lambda p: mlp.apply(p, x, activation="relu", beta=beta)[0])(params)
    by_hand_ntk = sum(float(jnp.sum(layer["w"] ** 2) + jnp.sum(layer["b"] ** 2)) for layer in g)
    by_hand_sp = sum(
        p["w"].shape[0] * float(jnp.sum(layer["w"] ** 2)) + float(jnp.sum(layer["b"] ** 2)) / beta**2
        for p, layer in zip(params, g)
    )
    np.testing.assert_allclose(ntk, by_hand_ntk, rtol=1e-12)
    np.testing.assert_allclose(sp, by_hand_sp, rtol=1e-12)


def test_variance_studies_name_the_unscaled_network_and_refuse_the_old_name():
    with pytest.raises(ValueError, match="'ntk' or 'unscaled'"):
        ch.first_layer_variances("standard", 0.5)
