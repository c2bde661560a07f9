"""Tests of ntkbook.mlp: the network against independent computations, and bad inputs.

The chapter's studies are tested in tests/chapters/test_c07_notation.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import mlp


@pytest.fixture(scope="module")
def net():
    ws = (4, 7, 5, 3)
    return ws, mlp.init(jax.random.key(0), ws)


def test_init_shapes_and_dtype(net):
    ws, params = net
    assert len(params) == len(ws) - 1
    for l, layer in enumerate(params):
        assert layer["w"].shape == (ws[l], ws[l + 1])
        assert layer["b"].shape == (ws[l + 1],)
        assert layer["w"].dtype == jnp.float64
    p32 = mlp.init(jax.random.key(0), ws, dtype=jnp.float32)
    assert p32[0]["w"].dtype == jnp.float32
    assert mlp.widths_of(params) == ws


def test_init_layers_use_different_keys(net):
    _, params = net
    assert not np.allclose(params[1]["w"][:3, :3], params[2]["w"][:3, :3])
    assert not np.allclose(params[0]["b"][:5], params[1]["w"][0, :5])


def test_apply_matches_manual_numpy(net):
    ws, params = net
    x = np.asarray(jax.random.normal(jax.random.key(1), (6, ws[0])))
    a = x
    for l, layer in enumerate(params):
        z = a @ np.asarray(layer["w"]) / np.sqrt(ws[l]) + 0.3 * np.asarray(layer["b"])
        a = np.tanh(z) if l + 1 < len(params) else z
    np.testing.assert_allclose(mlp.apply(params, x, activation="tanh", beta=0.3), a, rtol=1e-13, atol=1e-13)


def test_apply_single_input_and_callable(net):
    ws, params = net
    x = jax.random.normal(jax.random.key(2), (ws[0],))
    out = mlp.apply(params, x, activation=jnp.sin)
    assert out.shape == (ws[-1],)
    np.testing.assert_allclose(out, mlp.apply(params, x[None], activation=jnp.sin)[0], atol=1e-14)


def test_forward_collects_everything(net):
    ws, params = net
    x = jax.random.normal(jax.random.key(3), (2, ws[0]))
    fwd = mlp.forward(params, x, activation="relu", beta=0.1)
    assert [p.shape for p in fwd.pre] == [(2, n) for n in ws[1:]]
    assert [a.shape for a in fwd.post] == [(2, n) for n in ws[:-1]]
    np.testing.assert_allclose(fwd.post[1], jnp.maximum(fwd.pre[0], 0))
    np.testing.assert_allclose(fwd.output, mlp.apply(params, x, activation="relu", beta=0.1))


def test_identity_network_is_linear(net):
    ws, params = net
    x, y = jax.random.normal(jax.random.key(4), (2, ws[0]))
    f = lambda v: mlp.apply(params, v, activation="identity")  # noqa: E731
    np.testing.assert_allclose(f(2 * x + 3 * y), 2 * f(x) + 3 * f(y), atol=1e-12)


def test_works_under_jit_and_grad(net):
    ws, params = net
    x = jnp.ones((3, ws[0]))
    g = jax.jit(jax.grad(lambda p: jnp.sum(mlp.apply(p, x, activation="gelu", beta=0.5))))(params)
    assert g[0]["w"].shape == (ws[0], ws[1])


def _same_tree(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(
        x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(la, lb)
    )


def test_init_draws_the_numbers_of_jax_random_normal():
    # the draws go through ntkbook._random (compiled once per size): the numbers must be those of
    # jax.random.normal with init's keys, eagerly, under jit and under vmap
    ws = (3, 300, 2)
    keys = jax.random.split(jax.random.key(5), 4)

    def reference(k):
        sub = jax.random.split(k, 4)
        return [
            {"w": jax.random.normal(sub[0], (3, 300)), "b": jax.random.normal(sub[1], (300,))},
            {"w": jax.random.normal(sub[2], (300, 2)), "b": jax.random.normal(sub[3], (2,))},
        ]

    assert _same_tree(mlp.init(keys[0], ws), reference(keys[0]))
    assert _same_tree(jax.jit(lambda k: mlp.init(k, ws))(keys[0]), reference(keys[0]))
    assert _same_tree(jax.vmap(lambda k: mlp.init(k, ws))(keys), jax.vmap(reference)(keys))


def test_init_batch_and_sweep_are_vmapped_init():
    keys = jax.random.split(jax.random.key(6), 11)
    widths = [(2, n, 1) for n in (4, 3000)]  # rows of one length (4096) and of two (8192, 4096)
    sweep = mlp.init_sweep(keys, widths)
    for ws, params in zip(widths, sweep):
        want = jax.vmap(lambda k, ws=ws: mlp.init(k, ws))(keys)
        assert _same_tree(params, want)
        assert _same_tree(mlp.init_batch(keys, ws), want)
    raw = jax.random.split(jax.random.PRNGKey(1), 3)
    assert _same_tree(
        mlp.init_batch(raw, (3, 5, 4, 2), dtype=jnp.float32),
        jax.vmap(lambda k: mlp.init(k, (3, 5, 4, 2), dtype=jnp.float32))(raw),
    )
    assert _same_tree(jax.jit(lambda k: mlp.init_batch(k, (2, 8, 1)))(keys), mlp.init_batch(keys, (2, 8, 1)))


def test_standard_normal_is_jax_random_normal():
    k = jax.random.key(9)
    assert np.array_equal(mlp.standard_normal(k, (6, 5)), jax.random.normal(k, (6, 5)))


def test_check_arguments_and_forward_unchecked(net):
    ws, params = net
    x = jax.random.normal(jax.random.key(8), (3, ws[0]))
    widths, xc, sigma, beta = mlp.check_arguments(params, x, "tanh", 0.2)
    assert widths == ws and xc.shape == (3, ws[0]) and beta == 0.2
    np.testing.assert_allclose(sigma(jnp.array([0.5])), np.tanh([0.5]), atol=1e-15)
    fwd = mlp.forward_unchecked(params, xc, sigma, beta)
    ref = mlp.forward(params, x, activation="tanh", beta=0.2)
    for a, b in zip(fwd.pre + fwd.post, ref.pre + ref.post):
        np.testing.assert_allclose(a, b, atol=1e-14)
    assert mlp.check_widths([2, np.int64(3)]) == (2, 3)


def test_num_params():
    assert mlp.num_params((3, 5, 2)) == 4 * 5 + 6 * 2
    assert mlp.num_params([1, 1]) == 2


def test_second_moment_matches_formula():
    x = jnp.linspace(-1, 1, 16)
    est, se = mlp.second_moment(jax.random.key(7), (16, 3), x, beta=0.4, samples=3000)
    assert abs(est - (float(x @ x) / 16 + 0.16)) < 5 * se
    # the unscaled network (N(0, 1) weights, no 1/sqrt(n_0)): |x|² + β², n_0 times the first
    est, se = mlp.second_moment(jax.random.key(7), (16, 3), x, beta=0.4, samples=3000, parameterization="unscaled")
    assert abs(est - (float(x @ x) + 0.16)) < 5 * se


def test_standard_apply_with_scaled_weights_is_apply():
    """The standard parameterization (weights of variance 1/n_l) computes the NTK parameterization's function."""
    p = mlp.init(jax.random.key(3), (4, 6, 2))
    scaled = [dict(w=layer["w"] / jnp.sqrt(layer["w"].shape[0]), b=layer["b"]) for layer in p]
    x = jax.random.normal(jax.random.key(4), (5, 4))
    np.testing.assert_allclose(mlp.standard_apply(scaled, x, beta=0.3), mlp.apply(p, x, beta=0.3), rtol=1e-12)


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda p: mlp.init(0, (2, 3)), TypeError, "key"),
        (lambda p: mlp.init(jax.random.key(0), (2,)), ValueError, "widths"),
        (lambda p: mlp.init(jax.random.key(0), (2, 0)), ValueError, "widths[1]"),
        (lambda p: mlp.init(jax.random.key(0), "23"), TypeError, "widths"),
        (lambda p: mlp.init(jax.random.key(0), (2, 3), dtype=jnp.int32), TypeError, "dtype"),
        (lambda p: mlp.apply(p, jnp.ones((2, 5))), ValueError, "x"),
        (lambda p: mlp.apply(p, jnp.ones((1, 2, 4))), ValueError, "x"),
        (lambda p: mlp.apply(p, jnp.array([jnp.nan, 0, 0, 0])), ValueError, "x"),
        (lambda p: mlp.apply(p, jnp.ones(4), activation="swish"), ValueError, "activation"),
        (lambda p: mlp.apply(p, jnp.ones(4), activation=3), TypeError, "activation"),
        (lambda p: mlp.apply(p, jnp.ones(4), beta=-1.0), ValueError, "beta"),
        (lambda p: mlp.apply(p[:1] + p[2:], jnp.ones(4)), ValueError, "params[1]"),
        (lambda p: mlp.apply({"w": 1}, jnp.ones(4)), TypeError, "params"),
        (lambda p: mlp.apply([{"w": jnp.ones((4, 2)), "b": jnp.ones(3)}], jnp.ones(4)), ValueError, "params[0]['b']"),
        (lambda p: mlp.num_params((3,)), ValueError, "widths"),
        (lambda p: mlp.init_batch(jax.random.key(0), (2, 3)), ValueError, "keys"),
        (lambda p: mlp.init_batch(jnp.ones((2, 3)), (2, 3)), TypeError, "keys"),
        (lambda p: mlp.init_sweep(jax.random.split(jax.random.key(0), 2), []), TypeError, "widths_list"),
        (lambda p: mlp.init_sweep(jax.random.split(jax.random.key(0), 2), [(2, 3), (2, 3, 1)]), ValueError, "depth"),
        (lambda p: mlp.init_sweep(jax.random.split(jax.random.key(0), 2), [(2, 0)]), ValueError, "widths_list[0][1]"),
        (lambda p: mlp.init_batch(jax.random.split(jax.random.key(0), 2), (2, 3), dtype=jnp.int32), TypeError, "dtype"),
        (lambda p: mlp.second_moment(jax.random.key(0), (3, 2), jnp.ones(4)), ValueError, "xs[0]"),
        (
            lambda p: mlp.second_moment(jax.random.key(0), (3, 2), jnp.ones(3), parameterization="mup"),
            ValueError,
            "parameterization",
        ),
        (
            lambda p: mlp.second_moment(jax.random.key(0), (3, 2), jnp.ones(3), parameterization="standard"),
            ValueError,
            "unscaled",
        ),
        (lambda p: mlp.check_widths((3,), "sizes"), ValueError, "sizes"),
        (lambda p: mlp.check_widths((3, 0)), ValueError, "widths[1]"),
        (lambda p: mlp.check_arguments(p, jnp.ones(5)), ValueError, "x"),
        (lambda p: mlp.check_arguments(p, jnp.ones(4), "relu", -1.0), ValueError, "beta"),
    ],
)
def test_bad_inputs(net, call, exc, word):
    _, params = net
    with pytest.raises(exc) as info:
        call(params)
    assert word in str(info.value)
