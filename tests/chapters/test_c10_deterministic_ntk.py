"""Tests of the chapter module ntkbook.chapters.c10_deterministic_ntk: its data and the source's
formulas as written (the claims themselves run in the notebook, under nbval)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import infinite_ntk as intk
from ntkbook import mlp
from ntkbook.chapters import c10_deterministic_ntk as ch
from ntkbook.claims import registry


def test_chapter_registers_its_claims():
    claims = [c for c in registry().values() if c.chapter == ch.CHAPTER]
    assert len(claims) == 18


def test_chapter_inputs():
    x = ch.chapter_inputs()
    assert x.shape == (4, 4) and x.dtype == jnp.float64


def test_source_formula_with_everything_corrected_is_the_identity():
    x = ch.chapter_inputs()
    p = mlp.init(jax.random.key(8), (4, 6, 3))
    a = ch.source_entrywise_ntk(
        p, x, activation="tanh", beta=0.4, output_indices=False, bias_inside=False, same_input=False
    )
    np.testing.assert_allclose(a, intk.finite_width_ntk(p, x, activation="tanh", beta=0.4), atol=1e-12)


def test_source_formula_output_indices_need_few_outputs():
    p = mlp.init(jax.random.key(8), (4, 2, 3))  # n_L = 3 > n_1 = 2
    with pytest.raises(ValueError, match="output_indices"):
        ch.source_entrywise_ntk(p, ch.chapter_inputs())


def test_red_term_normalized_is_raw_over_width():
    x = ch.chapter_inputs()
    p = mlp.init(jax.random.key(9), (4, 7, 2))
    raw = ch.red_term(p, x, x, activation="relu", beta=0.1, normalized=False)
    norm = ch.red_term(p, x, x, activation="relu", beta=0.1, normalized=True)
    assert raw.shape == (4, 4, 2, 2)
    np.testing.assert_allclose(norm, raw / 7, rtol=1e-14, atol=0)


def test_source_chain_rule_entries_are_sqrt_n_times_autodiff():
    x = ch.chapter_inputs()
    p = mlp.init(jax.random.key(11), (4, 5, 3, 2))
    kw = dict(activation="tanh", beta=0.3)
    auto = ch.theta_tilde_jacobian(p, x, **kw)
    np.testing.assert_allclose(ch.source_chain_rule_entries(p, x, **kw, scaled=True), auto, atol=1e-13)
    np.testing.assert_allclose(ch.source_chain_rule_entries(p, x, **kw), np.sqrt(3) * auto, atol=1e-13)


def test_kernels_by_depth_match_the_library():
    x = ch.circle_inputs(12)
    ks = ch.kernels_by_depth(x, activation="erf", beta=0.2, depth=4)
    for d in (1, 4):
        _, k = intk.infinite_width_kernels(x, depth=d, activation="erf", beta=0.2)
        np.testing.assert_allclose(ks[d - 1], k, rtol=0, atol=1e-13)


def test_circle_kernel_is_circulant_and_labels_are_eigenvectors():
    x = ch.circle_inputs()
    k = np.asarray(ch.kernels_by_depth(x, activation="relu", beta=0.1, depth=3)[-1])
    np.testing.assert_allclose(np.roll(np.roll(k, 1, 0), 1, 1), k, atol=1e-13)
    phi = 2 * np.pi * np.arange(x.shape[0]) / x.shape[0]
    for v in (np.sin(phi), np.cos(2 * phi)):
        lam = v @ k @ v / (v @ v)
        np.testing.assert_allclose(k @ v, lam * v, atol=1e-12)


def test_flow_residual_matches_the_eigendecomposition():
    x = ch.circle_inputs(10)
    k = ch.kernels_by_depth(x, activation="relu", beta=0.1, depth=2)[-1]
    lam, u = np.linalg.eigh(np.asarray(k))
    r0 = jnp.arange(10.0) - 4.5
    want = u @ (np.exp(-lam * 3.0 / 10) * (u.T @ np.asarray(r0)))
    np.testing.assert_allclose(ch.flow_residual(k, r0, 3.0), want, atol=1e-12)


def test_depth3_parts_give_the_autodiff_ntk():
    x = ch.chapter_inputs()
    p = mlp.init(jax.random.key(12), (4, 7, 5, 1))
    k, off = ch.depth3_ntk_parts(p, x, beta=0.1)
    np.testing.assert_allclose(k, intk.finite_width_ntk(p, x, activation="relu", beta=0.1)[..., 0, 0], atol=1e-13)
    # the i != j part, from the sub-network NTK K^(2)_ij formed explicitly
    k2 = intk.sub_network_ntk(p, x, activation="relu", beta=0.1)  # (N, N, 5, 5)
    h2 = mlp.forward(p[:-1], x, activation="relu", beta=0.1).output
    u = p[-1]["w"][:, 0] * (h2 > 0)
    mask = 1.0 - jnp.eye(5)
    want = jnp.einsum("ai,bj,abij->ab", u, u, k2 * mask) / 5
    np.testing.assert_allclose(off, want, atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
def test_angle_kernels_match_the_library_network_by_network(activation):
    from ntkbook import ntk

    x = ch.circle_inputs()[:21:2]
    p = mlp.init(jax.random.key(13), (2, 7, 6, 5, 4))
    s_hat, k = ch.angle_kernels(p, x, activation=activation, beta=0.3)
    assert s_hat.shape == k.shape == (len(ch.ANGLE_DEPTHS) - 1, x.shape[0])
    for i, depth in enumerate(ch.ANGLE_DEPTHS[1:]):
        q = ch._angle_networks(p, depth)
        assert len(q) == depth and q[-1]["w"].shape[1] == 1
        want = ntk.layerwise_ntk(q, x[:1], x, activation=activation, beta=0.3)[0, :, 0, 0]
        np.testing.assert_allclose(k[i], want, rtol=0, atol=1e-13)
        a = mlp.forward(q, x, activation=activation, beta=0.3).post[-1]
        np.testing.assert_allclose(s_hat[i], a @ a[0] / a.shape[-1] + 0.09, rtol=0, atol=1e-13)


def test_residual_along_eigenvectors_decays_at_each_eigenvalue():
    # the matrix exponential's components against the eigen-prediction, which the figure draws beside them
    for act, beta in (("relu", 0.1), ("erf", 0.0)):
        d = ch.residual_along_eigenvectors(act, beta, num_times=9)
        predicted = d["initial"] * np.exp(-np.outer(d["times"], d["eigenvalues"]) / d["N"])
        np.testing.assert_allclose(d["components"], predicted, rtol=0, atol=1e-12)
        np.testing.assert_allclose(d["components"][0], d["initial"], rtol=0, atol=1e-13)
    assert abs(d["eigenvalues"][1]) < 1e-12  # erf without a bias: cos 2φ is in the null space
