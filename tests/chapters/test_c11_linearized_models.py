"""Tests of the chapter module ntkbook.chapters.c11_linearized_models: its set-up, kernels and studies
(the claims themselves run in the notebook, under nbval)."""

import jax
import jax.numpy as jnp
import numpy as np

from ntkbook import infinite_ntk, linearized, mlp
from ntkbook.chapters import c11_linearized_models as ch
from ntkbook.claims import registry


def test_chapter_registers_its_claims():
    claims = [c for c in registry().values() if c.chapter == ch.CHAPTER]
    assert len(claims) == 16


def test_toy_problem_is_the_stated_circle_and_targets():
    x, y, xt, yt = ch.toy_problem()
    assert x.shape == (ch.N_TRAIN, 2) and y.shape == (ch.N_TRAIN, 1)
    assert xt.shape == (ch.N_TEST, 2) and yt.shape == (ch.N_TEST, 1)
    np.testing.assert_allclose(np.sum(np.asarray(x) ** 2, 1) / 2, 2.0, atol=1e-14)  # ||x||²/n_0 = 2
    for inputs, targets in ((x, y), (xt, yt)):
        phi = np.arctan2(inputs[:, 1], inputs[:, 0])
        np.testing.assert_allclose(targets[:, 0], np.sin(2 * phi) + 0.5 * np.cos(phi), atol=1e-14)
    # No test input coincides with a training input (the closest pair is 0.0016 apart).
    dist = np.linalg.norm(np.asarray(xt)[:, None] - np.asarray(x)[None], axis=-1)
    assert dist.min() > 1e-3


def test_network_is_mlp_apply_with_erf_and_beta():
    p = ch.init_network(jax.random.key(0), 8, 2)
    assert mlp.widths_of(p) == (2, 8, 2)
    x, _, _, _ = ch.toy_problem()
    np.testing.assert_array_equal(ch.network(p, x), mlp.apply(p, x, activation="erf", beta=0.5))


def test_init_networks_is_vmap_of_init_network():
    keys = jax.random.split(jax.random.key(1), 3)
    batch = ch.init_networks(keys, 6)
    one = ch.init_network(keys[2], 6)
    for a, b in zip(jax.tree_util.tree_leaves(batch), jax.tree_util.tree_leaves(one)):
        np.testing.assert_array_equal(a[2], b)


def test_empirical_kernels_are_jacobian_products():
    x, _, xt, _ = ch.toy_problem(3, 4)
    p = ch.init_network(jax.random.key(2), 5)
    k, kt = ch.empirical_kernels(p, x, xt)
    flat, unravel = jax.flatten_util.ravel_pytree(p)
    jac = lambda z: jax.jacrev(lambda th: ch.network(unravel(th), z)[:, 0])(flat)  # noqa: E731
    np.testing.assert_allclose(k, jac(x) @ jac(x).T, atol=1e-13)
    np.testing.assert_allclose(kt, jac(xt) @ jac(x).T, atol=1e-13)


def test_infinite_kernels_are_the_library_kernels_of_the_network():
    x, _, xt, _ = ch.toy_problem(3, 4)
    s, k = ch.infinite_kernels(xt, x)
    s_lib, k_lib = infinite_ntk.infinite_width_kernels(xt, x, depth=2, activation="erf", beta=0.5)
    assert s.shape == k.shape == (4, 3)
    np.testing.assert_array_equal(s, s_lib)
    np.testing.assert_array_equal(k, k_lib)


def test_width_sweep_shapes_and_common_start():
    s = ch.width_sweep(widths=(16, 64), seeds=2, steps=10, record_every=5)
    assert s["gap_lin"].shape == s["gap_inf"].shape == (2, 2)
    for name in ("loss_real", "loss_lin", "loss_inf"):
        assert s[name].shape == (2, 2, 3)
    np.testing.assert_array_equal(s["widths"], [16, 64])
    # At step 0 the real network and both closed forms start from the same f_0.
    np.testing.assert_allclose(s["loss_real"][:, :, 0], s["loss_lin"][:, :, 0], atol=1e-14)
    np.testing.assert_allclose(s["loss_real"][:, :, 0], s["loss_inf"][:, :, 0], atol=1e-14)
    assert np.all(s["gap_lin"] > 0) and np.all(np.isfinite(s["gap_inf"]))


def test_ensemble_runs_until_the_slowest_mode_has_decayed_and_holds_the_ntk_gp():
    e = ch.ensemble(width=16, seeds=2)
    x, y, xt, _ = ch.toy_problem()
    x, xt = x * (ch.ENSEMBLE_RADIUS / ch.RADIUS), xt * (ch.ENSEMBLE_RADIUS / ch.RADIUS)
    s_xx, k_xx = ch.infinite_kernels(x)
    s_tx, k_tx = ch.infinite_kernels(xt, x)
    s_tt, _ = ch.infinite_kernels(xt)
    lam_min = float(jnp.linalg.eigvalsh(k_xx)[0])
    assert np.exp(-ch.ENSEMBLE_LR * lam_min * e["steps"] / x.shape[0]) <= 1e-6
    assert e["preds"].shape == (2, ch.N_TEST) and e["final_loss"].shape == (2,)
    mean, cov = linearized.ntk_gp(s_tt, s_tx, s_xx, k_tx, k_xx, y)
    np.testing.assert_allclose(e["mean"], mean[:, 0], atol=1e-12)
    np.testing.assert_allclose(e["var"], np.diag(cov), atol=1e-12)
    np.testing.assert_array_equal(e["x_test"], xt)


def test_flow_of_the_sources_loss_is_the_chapters_flow_n_times_faster():
    # The source's loss ½ Σ ||f - y||² is N times the chapter's: its flow over [0, 60/N] passes through the
    # chapter's flow over [0, 60] at the same 13 evenly spaced times (two independent integrations).
    n = ch.N_TRAIN
    ours = ch._flow_numeric()
    source = ch._flow_numeric(loss_scale=float(n), t_end=60.0 / n)
    np.testing.assert_allclose(source[4] * n, ours[4], rtol=1e-12)  # times
    np.testing.assert_allclose(source[5], ours[5], atol=1e-8)  # training outputs


def test_nngp_posterior_against_a_direct_solve_and_the_discriminating_direction():
    x, y, xt, _ = ch.toy_problem(5, 6)
    s_xx, _ = ch.infinite_kernels(x)
    s_tx, _ = ch.infinite_kernels(xt, x)
    s_tt, _ = ch.infinite_kernels(xt)
    mean, cov = ch.nngp_posterior(s_tt, s_tx, s_xx, y)
    a, b, c = (np.asarray(m) for m in (s_tt, s_tx, s_xx))
    np.testing.assert_allclose(mean, b @ np.linalg.solve(c, np.asarray(y)), atol=1e-10)
    np.testing.assert_allclose(cov, a - b @ np.linalg.solve(c, b.T), atol=1e-10)
    # The direction maximises the relative drop v^T (C - A) v / v^T C v: a known diagonal case.
    cmat, amat = np.diag([4.0, 2.0, 1.0]), np.diag([3.0, 0.5, 0.9])
    v = ch.discriminating_direction(cmat, amat, floor=0.2)
    np.testing.assert_allclose(np.abs(v), [0.0, 1.0, 0.0], atol=1e-12)
