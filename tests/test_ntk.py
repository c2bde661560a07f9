"""Tests of ntkbook.ntk (and the time model of its automatic choice, ntkbook._strategy): the empirical NTK
against independent computations, and bad inputs. The chapter's losses and studies are tested in
tests/chapters/test_c08_ntk.py."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import _strategy, mlp, ntk


@pytest.fixture(scope="module")
def net():
    ws = (3, 10, 8, 2)
    params = mlp.init(jax.random.key(0), ws)
    x1 = jax.random.normal(jax.random.key(1), (4, 3))
    x2 = jax.random.normal(jax.random.key(2), (3, 3))
    fn = lambda p, x: mlp.apply(p, x, activation="tanh", beta=0.4)  # noqa: E731
    return params, x1, x2, fn


def _bruteforce(fn, params, x1, x2):
    """K by jacrev of the whole batch over the flattened parameter vector (a different route from the module)."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    J1 = jax.jacrev(lambda t: fn(unravel(t), x1))(flat)  # (N1, o, P)
    J2 = jax.jacrev(lambda t: fn(unravel(t), x2))(flat)
    return np.einsum("aip,bjp->abij", np.asarray(J1), np.asarray(J2))


@pytest.mark.parametrize("strategy", ["jacobian", "products", "layerwise", "auto"])
@pytest.mark.parametrize("output", ["full", "trace", "diagonal"])
def test_strategies_match_bruteforce(net, strategy, output):
    params, x1, x2, fn = net
    ref = _bruteforce(fn, params, x1, x2)
    K = ntk.empirical_ntk(
        fn,
        params,
        x1,
        x2,
        strategy=strategy,
        output=output,
        mlp_config=dict(activation="tanh", beta=0.4) if strategy in ("layerwise", "auto") else None,
    )
    if output == "trace":
        ref = np.trace(ref, axis1=2, axis2=3)
    elif output == "diagonal":
        ref = np.diagonal(ref, axis1=2, axis2=3)
    np.testing.assert_allclose(K, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_x2_none_and_small_chunks(net):
    params, x1, _, fn = net
    a = ntk.empirical_ntk(fn, params, x1, strategy="products", chunk=3)
    b = ntk.empirical_ntk(fn, params, x1, x1, strategy="jacobian")
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_mlp_ntk_and_layerwise(net):
    params, x1, x2, _ = net
    a = ntk.mlp_ntk(params, x1, x2, activation="tanh", beta=0.4)
    b = ntk.layerwise_ntk(params, x1, x2, activation="tanh", beta=0.4)
    c = ntk.mlp_ntk(params, x1, x2, activation="tanh", beta=0.4, strategy="jacobian")
    np.testing.assert_allclose(a, b, atol=1e-13)
    np.testing.assert_allclose(a, c, atol=1e-12)


def test_one_layer_kernel_is_closed_form():
    # L = 1: f = w^T x / sqrt(n0) + beta b, so K(x, x') = (x.x'/n0 + beta^2) I exactly
    params = mlp.init(jax.random.key(3), (5, 3))
    x = jax.random.normal(jax.random.key(4), (4, 5))
    K = ntk.mlp_ntk(params, x, activation="relu", beta=0.7, strategy="jacobian")
    expected = (np.asarray(x) @ np.asarray(x).T / 5 + 0.49)[:, :, None, None] * np.eye(3)
    np.testing.assert_allclose(K, expected, atol=1e-13)


def test_generic_pytree_apply_fn():
    # any apply(params, x): a dict-parameterized quadratic model
    params = {"a": jnp.array([1.0, -2.0]), "c": jnp.array(0.5)}
    fn = lambda p, x: (x @ p["a"] + p["c"] * jnp.sum(x**2, axis=1))[:, None]  # noqa: E731
    x = jnp.array([[1.0, 2.0], [0.5, -1.0]])
    phi = np.concatenate([np.asarray(x), np.sum(np.asarray(x) ** 2, axis=1, keepdims=True)], axis=1)  # df/dtheta
    for s in ("jacobian", "products"):
        np.testing.assert_allclose(ntk.empirical_ntk(fn, params, x, strategy=s)[:, :, 0, 0], phi @ phi.T, atol=1e-13)


def test_feature_map_shape(net):
    params, x1, _, fn = net
    assert ntk.feature_map(fn, params, x1).shape == (4, mlp.num_params((3, 10, 8, 2)), 2)


def test_choose_strategy_rules():
    fn = ntk.mlp_apply_fn("relu", 0.1)
    params = mlp.init(jax.random.key(1), (100, 512, 1), dtype=jnp.float32)
    small = jax.random.normal(jax.random.key(2), (8, 100), jnp.float32)
    assert ntk.choose_strategy(fn, params, small, mlp_config=dict(activation="relu", beta=0.1)) == "layerwise"
    # 20000 inputs x P = 52225 float32 parameters: 4.2 GB of Jacobians, over the 1 GiB budget -> products,
    # however the predicted times compare (the Jacobian program is then not even compiled)
    big = jnp.zeros((20000, 100), jnp.float32)
    est = ntk.strategy_estimates(fn, params, big)
    assert est["jacobian"]["jacobian_bytes"] == 20000 * mlp.num_params((100, 512, 1)) * 4 > ntk.JACOBIAN_MEMORY_BUDGET
    assert est["jacobian"]["counted_by"] == "closed form"
    assert ntk.choose_strategy(fn, params, big) == "products"


def test_strategy_estimates_count_what_xla_runs():
    fn = ntk.mlp_apply_fn("relu", 0.1)
    ws = (100, 128, 128, 128, 1)
    P = mlp.num_params(ws)
    params = mlp.init(jax.random.key(1), ws, dtype=jnp.float32)
    x1 = jax.random.normal(jax.random.key(2), (64, 100), jnp.float32)
    counts = {}
    for n2 in (100, 200):  # 100 and 200 basis columns: 1 step of 64 + 36 left, 3 steps of 64 + 8 left
        x2 = jax.random.normal(jax.random.key(3), (n2, 100), jnp.float32)
        est = ntk.strategy_estimates(fn, params, x1, x2)
        assert est["jacobian"]["counted_by"] == est["products"]["counted_by"] == "xla"
        # Jacobian contraction: XLA's FLOPs within 5% of the closed form (measured: 1.7% and 1.4% under)
        closed = ntk.strategy_cost("jacobian", n1=64, n2=n2, n_out=1, num_params=P)["flops"]
        assert abs(est["jacobian"]["flops"] / closed - 1) < 0.05
        counts[n2] = est["products"]["flops"]
    # XLA counts a loop body once; scaled by the trip count, the products FLOPs are linear in the columns
    # (measured ratio 2.005; unscaled, XLA would count one step of 64 plus the remainder: 100 of 100 columns but
    # only 72 of 200, a ratio of 0.72)
    assert abs(counts[200] / counts[100] - 2) < 0.01

    # Chapter 08: for one wide hidden layer XLA counts about half the closed-form FLOPs of products, as the
    # input layer's tangent takes one matrix product, not two (measured 0.515 for 100-512-1, N = 256)
    ws = (100, 512, 1)
    params = mlp.init(jax.random.key(1), ws, dtype=jnp.float32)
    x = jax.random.normal(jax.random.key(2), (256, 100), jnp.float32)
    closed = ntk.strategy_cost("products", n1=256, n2=256, n_out=1, num_params=mlp.num_params(ws))["flops"]
    assert 0.45 < ntk.strategy_estimates(fn, params, x)["products"]["flops"] / closed < 0.55


def test_auto_runs_the_program_it_picks():
    # the automatic choice runs the executable compiled for the estimate: bit-for-bit the chosen strategy
    for ws, n in (((100, 128, 128, 128, 1), 64), ((100, 512, 1), 16)):
        fn = ntk.mlp_apply_fn("relu", 0.1)
        params = mlp.init(jax.random.key(1), ws, dtype=jnp.float32)
        x = jax.random.normal(jax.random.key(2), (n, 100), jnp.float32)
        picked = ntk.choose_strategy(fn, params, x)
        np.testing.assert_array_equal(
            ntk.empirical_ntk(fn, params, x), ntk.empirical_ntk(fn, params, x, strategy=picked)
        )
    hits = _strategy._plans.cache_info().hits
    ntk.empirical_ntk(fn, params, x)
    assert _strategy._plans.cache_info().hits == hits + 1  # the second call compiles nothing


def test_strategy_cost_layerwise_is_cheaper():
    ws = (16, 1024, 1024, 1)
    P = mlp.num_params(ws)
    j = ntk.strategy_cost("jacobian", n1=128, n2=128, n_out=1, num_params=P, widths=ws)
    lw = ntk.strategy_cost("layerwise", n1=128, n2=128, n_out=1, num_params=P, widths=ws)
    assert lw["flops"] < j["flops"] and lw["memory"] < j["memory"]


def test_kernel_output_velocity(net):
    params, x1, _, fn = net
    g = jax.random.normal(jax.random.key(5), (4, 2))
    K = ntk.empirical_ntk(fn, params, x1)
    v = ntk.kernel_output_velocity(K, g)
    assert v.shape == (4, 2)
    np.testing.assert_allclose(v, -np.einsum("abij,bj->ai", np.asarray(K), np.asarray(g)) / 4, atol=1e-13)
    # for the squared error, grad_f l = f - y: the velocity is the chain rule's df/dt under gradient flow
    y = jnp.zeros((4, 2))
    theta_dot = jax.grad(lambda p: -0.5 * jnp.mean(jnp.sum((fn(p, x1) - y) ** 2, axis=1)))(params)
    _, f_dot = jax.jvp(lambda p: fn(p, x1), (params,), (theta_dot,))
    np.testing.assert_allclose(ntk.kernel_output_velocity(K, fn(params, x1) - y), f_dot, atol=1e-12)


def test_mlp_apply_fn_is_cached_and_is_the_network(net):
    params, x1, _, fn = net
    assert ntk.mlp_apply_fn("tanh", 0.4) is ntk.mlp_apply_fn("tanh", 0.4)
    np.testing.assert_array_equal(ntk.mlp_apply_fn("tanh", 0.4)(params, x1), fn(params, x1))


def test_time_model_is_reachable_from_ntk():
    assert ntk.TIME_MODEL is _strategy.TIME_MODEL
    assert ntk.JACOBIAN_MEMORY_BUDGET == _strategy.JACOBIAN_MEMORY_BUDGET
    assert set(ntk.TIME_MODEL) == {"jacobian", "products"}


def test_sensitivities_are_output_derivatives(net):
    params, x1, _, _ = net
    fwd, deltas = ntk.sensitivities(params, x1, activation="tanh", beta=0.4)
    assert [d.shape for d in deltas] == [(4, 2, 10), (4, 2, 8), (4, 2, 2)]
    np.testing.assert_allclose(deltas[-1], np.broadcast_to(np.eye(2), (4, 2, 2)), atol=0)  # df/dÃ^(L) = I
    np.testing.assert_allclose(fwd.output, mlp.apply(params, x1, activation="tanh", beta=0.4), atol=1e-14)


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, strategy="magic"), ValueError, "strategy"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, output="all"), ValueError, "output"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x[0]), ValueError, "x1"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, jnp.ones((2, 5))), ValueError, "x1 and x2"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, jnp.ones((0, 3))), ValueError, "x2"),
        (lambda p, x, f: ntk.empirical_ntk("f", p, x), TypeError, "apply_fn"),
        (lambda p, x, f: ntk.empirical_ntk(lambda q, z: z[:, 0], p, x), ValueError, "apply_fn"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, strategy="layerwise"), ValueError, "mlp_config"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, mlp_config={"act": "relu"}), ValueError, "mlp_config"),
        (lambda p, x, f: ntk.empirical_ntk(f, p, x, chunk=0), ValueError, "chunk"),
        (lambda p, x, f: ntk.empirical_ntk(f, {"a": "s"}, x), TypeError, "params"),
        (lambda p, x, f: ntk.layerwise_ntk(p, x, activation="nope"), ValueError, "activation"),
        (lambda p, x, f: ntk.layerwise_ntk(p, x, beta=-0.1), ValueError, "beta"),
        (lambda p, x, f: ntk.layerwise_ntk(p, jnp.ones((2, 4))), ValueError, "x"),
        (lambda p, x, f: ntk.strategy_cost("layerwise", n1=1, n2=1, n_out=1, num_params=3), ValueError, "widths"),
        (lambda p, x, f: ntk.strategy_cost("fast", n1=1, n2=1, n_out=1, num_params=3), ValueError, "strategy"),
        (lambda p, x, f: ntk.choose_strategy(f, p, x, chunk=0), ValueError, "chunk"),
        (lambda p, x, f: ntk.choose_strategy(f, p, x, output="all"), ValueError, "output"),
        (lambda p, x, f: ntk.strategy_estimates(f, p, x[0]), ValueError, "x1"),
        (lambda p, x, f: ntk.strategy_estimates("f", p, x), TypeError, "apply_fn"),
        (lambda p, x, f: ntk.kernel_output_velocity(jnp.ones((2, 3, 2, 2)), jnp.ones((2, 2))), ValueError, "kernel"),
    ],
)
def test_bad_inputs(net, call, exc, word):
    params, x1, _, fn = net
    with pytest.raises(exc) as info:
        call(params, x1, fn)
    assert word in str(info.value)
