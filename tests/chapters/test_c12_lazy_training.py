"""Tests of the chapter module ntkbook.chapters.c12_lazy_training: its studies (the claims themselves
run in the notebook, under nbval)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import lazy, mlp
from ntkbook.chapters import c11_linearized_models as c11
from ntkbook.chapters import c12_lazy_training as ch
from ntkbook.claims import registry

QUANTITIES = {
    "dtheta",
    "theta0",
    "rel_jac",
    "rel_ntk",
    "jac_op",
    "jac_min",
    "jac_fro",
    "dj_op",
    "taylor_rel",
    "taylor_op",
    "residual",
    "min_norm",
    "hess",
    "kappa",
    "final_loss",
}


def test_chapter_registers_its_claims():
    claims = [c for c in registry().values() if c.chapter == ch.CHAPTER]
    assert len(claims) == 14


def test_width_sweep_shapes_and_measurements():
    s = ch.width_sweep(widths=(8, 16), seeds=2, steps=5)
    np.testing.assert_array_equal(s["widths"], [8, 16])
    for name in ("ntk", "mean_field"):
        assert set(s[name]) == QUANTITIES
        assert all(v.shape == (2, 2) for v in s[name].values())
    ntk = s["ntk"]
    # Independent checks of a few quantities at width 8, seed 0: ||θ_0||, ||y - f_0||, ||J_0||_op and κ.
    x, y, _, _ = c11.toy_problem()
    # Independent draws per width: key 30 folded with the width, split per seed, then into (init, power start).
    seed_key = jax.random.split(jax.random.fold_in(jax.random.key(30), 8), 2)[0]
    p0 = mlp.init(jax.random.split(seed_key)[0], (2, 8, 1))
    flat = jax.flatten_util.ravel_pytree(p0)[0]
    np.testing.assert_allclose(ntk["theta0"][0, 0], jnp.linalg.norm(flat), rtol=1e-12)
    np.testing.assert_allclose(ntk["residual"][0, 0], jnp.linalg.norm(y - lazy.apply_parameterized(p0, x)), rtol=1e-12)
    np.testing.assert_allclose(ntk["jac_op"][0, 0], lazy.jacobian_norm(lazy.apply_parameterized, p0, x), rtol=1e-10)
    np.testing.assert_allclose(ntk["kappa"], ntk["residual"] * ntk["hess"] / ntk["jac_op"] ** 2, rtol=1e-12)
    # ||Δθ|| of the minimum-norm solution lies between ||r|| / σ_max(J) and ||r|| / σ_min(J).
    assert np.all(ntk["residual"] / ntk["jac_op"] <= ntk["min_norm"] * (1 + 1e-12))
    assert np.all(ntk["min_norm"] <= ntk["residual"] / ntk["jac_min"] * (1 + 1e-12))


def test_alpha_sweep_shapes_and_laziness_grows_with_alpha():
    a = ch.alpha_sweep(alphas=(1.0, 8.0), width=16, seeds=2, steps=50)
    np.testing.assert_array_equal(a["alphas"], [1.0, 8.0])
    for name in ("rel_dtheta", "gap", "final_loss"):
        assert a[name].shape == (2, 2)
    assert np.all(a["rel_dtheta"][1] < a["rel_dtheta"][0])
    assert np.all(a["gap"][1] < a["gap"][0])


@pytest.mark.parametrize("eps", [1.0, 0.5, 0.06])
def test_two_parameter_example_against_its_closed_form(eps):
    # f(θ) = (θ_1 + θ_2²/2, ε θ_2), ŷ = (0, ρ): ΔJ = [[0, ρ/ε], [0, 0]], ||J_0|| = 1, ||D²f|| = 1, κ = ρ.
    rho = 0.5
    ex = ch.two_parameter_example(eps, rho=rho)
    assert ex["misfit"] < 1e-14
    assert ex["kappa"] == pytest.approx(rho, rel=1e-12)
    assert ex["rel_change"] == pytest.approx(rho / eps, rel=1e-12)
    assert ex["cond"] == pytest.approx(1 / eps, rel=1e-12)


def test_two_parameter_example_refuses_a_non_positive_eps():
    with pytest.raises(ValueError, match="eps"):
        ch.two_parameter_example(0.0)


def test_kappa_claims_are_book_claims_and_the_shape_erratum_is_definitional():
    reg = registry()
    assert reg["12-lazy-training/kappa_estimate"].source_holds is None
    assert reg["12-lazy-training/kappa_not_a_bound"].source_holds is None
    assert "bound on" not in reg["12-lazy-training/jacobian_change_as_written"].truth.replace("nor a bound on", "")
    shape = reg["12-lazy-training/jacobian_change_shape_as_written"]
    assert shape.source_holds is False


def test_width_sweep_draws_are_independent_across_widths():
    # A width's networks are not the first units of a wider one (no nested draws).
    s = ch.width_sweep(widths=(8, 16), seeds=2, steps=1)
    k8 = jax.random.split(jax.random.split(jax.random.fold_in(jax.random.key(30), 8), 2)[0])[0]
    k16 = jax.random.split(jax.random.split(jax.random.fold_in(jax.random.key(30), 16), 2)[0])[0]
    w8, w16 = mlp.init(k8, (2, 8, 1))[0]["w"], mlp.init(k16, (2, 16, 1))[0]["w"]
    assert not np.allclose(w8, w16[:, :8])
    assert s["ntk"]["theta0"].shape == (2, 2)


def test_relu_sweep_shapes_and_the_first_order_estimate_of_a_smooth_network():
    r = ch.relu_sweep(widths=(8, 16), seeds=2, steps=5)
    np.testing.assert_array_equal(r["widths"], [8, 16])
    assert set(r) == {"widths", "rel_jac", "taylor_rel", "final_loss"}
    assert all(r[k].shape == (2, 2) for k in ("rel_jac", "taylor_rel", "final_loss"))
    # With tanh and a tiny step the first-order estimate of ΔJ is nearly exact (relative error ~ step size).
    x, y, _, _ = c11.toy_problem()
    p0 = mlp.init(jax.random.key(0), (2, 16, 1))
    out = ch._jacobian_change(p0, 1e-4, 3, x, y, "tanh")
    assert float(out["taylor_rel"]) < 1e-3
