"""Tests of ntkbook.linearized: independent computations and bad inputs (the chapter's set-up and
studies are tested in tests/chapters/test_c11_linearized_models.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from ntkbook import linearized as lin
from ntkbook import mlp


def _network(params, x):
    return mlp.apply(params, x, activation="erf", beta=0.5)


def _init_network(key, width):
    return mlp.init(key, (2, width, 1))


def _circle(n_train, n_test):
    """``(x, y, x_test, y_test)``: inputs on a circle of radius 2, targets ``sin 2φ + ½ cos φ``."""

    def on_circle(phi):
        return 2.0 * jnp.stack([jnp.cos(phi), jnp.sin(phi)], 1), (jnp.sin(2 * phi) + 0.5 * jnp.cos(phi))[:, None]

    x, y = on_circle(jnp.linspace(0, 2 * jnp.pi, n_train, endpoint=False) + 0.3)
    xt, yt = on_circle(jnp.linspace(0, 2 * jnp.pi, n_test, endpoint=False))
    return x, y, xt, yt


def _quadratic_model(params, x):
    # f(x; a, b) = (a . x) + b^2 (x . x): affine in a, quadratic in b -- an independent Taylor check.
    return (x @ params["a"] + params["b"] ** 2 * jnp.sum(x * x, axis=1))[:, None]


def test_linearize_of_a_quadratic_model_is_its_tangent():
    p0 = {"a": jnp.array([0.5, -1.0]), "b": jnp.array(0.7)}
    p1 = {"a": jnp.array([0.1, 0.2]), "b": jnp.array(1.3)}
    x = jnp.array([[1.0, 2.0], [-0.5, 0.3]])
    lin_fn = lin.linearize(_quadratic_model, p0)
    expected = x @ p1["a"] + (0.7**2 + 2 * 0.7 * (1.3 - 0.7)) * np.sum(np.asarray(x) ** 2, axis=1)
    np.testing.assert_allclose(lin_fn(p1, x)[:, 0], expected, atol=1e-14)


def test_linearized_model_of_a_linear_model_is_itself():
    p0 = {"w": jnp.array([[0.3], [-0.2]])}
    model = lambda p, x: x @ p["w"]  # noqa: E731
    p1 = {"w": jnp.array([[1.0], [2.0]])}
    x = jnp.ones((3, 2))
    np.testing.assert_allclose(lin.linearize(model, p0)(p1, x), model(p1, x), atol=1e-15)


def test_mse_loss_convention():
    f = jnp.array([[1.0], [3.0]])
    y = jnp.array([[0.0], [1.0]])
    assert float(lin.mse_loss(f, y)) == pytest.approx((0.5 * 1 + 0.5 * 4) / 2)


def test_train_linear_regression_matches_hand_iteration():
    # f(x; w) = x w: GD with L = (1/N) Σ ½ (x w - y)² is w <- w - η X^T (X w - y)/N.
    x = jnp.array([[1.0, 0.0], [0.5, 1.0], [-1.0, 2.0]])
    y = jnp.array([[1.0], [0.0], [2.0]])
    model = lambda p, xx: xx @ p  # noqa: E731
    w = np.zeros((2, 1))
    for _ in range(7):
        w = w - 0.3 * np.asarray(x).T @ (np.asarray(x) @ w - np.asarray(y)) / 3
    traj = lin.train(model, jnp.zeros((2, 1)), x, y, learning_rate=0.3, steps=7)
    np.testing.assert_allclose(traj.params, w, atol=1e-14)
    assert traj.train_outputs.shape == (8, 3, 1) and traj.steps.tolist() == list(range(8))


def test_train_records_every_k_steps_and_test_loss():
    x, y, xt, yt = _circle(5, 6)
    p0 = _init_network(jax.random.key(0), 8)
    traj = lin.train(_network, p0, x, y, learning_rate=0.5, steps=6, record_every=3, x_test=xt, y_test=yt)
    assert traj.steps.tolist() == [0, 3, 6]
    assert traj.test_outputs.shape == (3, 6, 1)
    np.testing.assert_allclose(traj.test_loss[0], lin.mse_loss(_network(p0, xt), yt), atol=1e-14)


def test_train_is_vmappable_over_initializations():
    x, y, _, _ = _circle(4, 4)
    keys = jax.random.split(jax.random.key(1), 3)
    params = jax.vmap(lambda k: _init_network(k, 8))(keys)
    loss = jax.vmap(lambda p: lin.train(_network, p, x, y, learning_rate=0.5, steps=4).train_loss)(params)
    single = lin.train(
        _network, jax.tree_util.tree_map(lambda a: a[1], params), x, y, learning_rate=0.5, steps=4
    ).train_loss
    np.testing.assert_allclose(loss[1], single, atol=1e-13)


def test_mse_dynamics_against_scipy_expm_and_matrix_power():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 6))
    k = a @ a.T
    f0, y = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    kt = rng.normal(size=(3, 4))
    f0t = rng.normal(size=(3, 1))
    eta, n = 0.4, 4
    tr, te = lin.mse_dynamics(k, f0, y, learning_rate=eta, times=[0.0, 2.5], kernel_test_train=kt, f0_test=f0t)
    np.testing.assert_allclose(tr[1], y + expm(-eta * k * 2.5 / n) @ (f0 - y), atol=1e-12)
    resolvent = np.linalg.solve(k, np.eye(4) - expm(-eta * k * 2.5 / n))
    np.testing.assert_allclose(te[1], f0t - kt @ resolvent @ (f0 - y), atol=1e-12)
    trd, _ = lin.mse_dynamics(k, f0, y, learning_rate=eta, times=[3], discrete=True)
    np.testing.assert_allclose(trd[0], y + np.linalg.matrix_power(np.eye(4) - eta * k / n, 3) @ (f0 - y), atol=1e-12)


def test_mse_dynamics_full_kernel_equals_scalar_kernel_times_identity():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 5))
    k = a @ a.T
    full = np.einsum("ab,ij->abij", k, np.eye(2))
    f0, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    s, _ = lin.mse_dynamics(k, f0, y, learning_rate=0.7, times=[1.0, 4.0])
    f, _ = lin.mse_dynamics(full, f0, y, learning_rate=0.7, times=[1.0, 4.0])
    np.testing.assert_allclose(s, f, atol=1e-13)


def test_mse_dynamics_singular_kernel_is_finite():
    k = np.ones((3, 3))  # rank one
    tr, te = lin.mse_dynamics(
        k,
        np.zeros((3, 1)),
        np.ones((3, 1)),
        learning_rate=1.0,
        times=[np.inf],
        kernel_test_train=np.ones((2, 3)),
        f0_test=np.zeros((2, 1)),
    )
    assert np.all(np.isfinite(tr)) and np.all(np.isfinite(te))


def test_ntk_gp_at_infinite_time_is_kernel_regression_and_interpolates():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 7))
    theta = a @ a.T + 0.1 * np.eye(4)
    b = rng.normal(size=(4, 7))
    sigma = b @ b.T
    y = rng.normal(size=(4, 1))
    mean, cov = lin.ntk_gp(sigma, sigma, sigma, theta, theta, y)  # test inputs = training inputs
    np.testing.assert_allclose(mean, y, atol=1e-10)
    np.testing.assert_allclose(cov, np.zeros((4, 4)), atol=1e-9)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(learning_rate=-0.1), "learning_rate"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(steps=0), "steps"),
        (dict(steps=5, record_every=2), "record_every"),
    ],
)
def test_train_bad_arguments(bad, match):
    x, y, _, _ = _circle(4, 4)
    p0 = _init_network(jax.random.key(0), 4)
    kwargs = dict(learning_rate=0.1, steps=4) | bad
    with pytest.raises(ValueError, match=match):
        lin.train(_network, p0, x, y, **kwargs)


def test_train_bad_data():
    x, y, _, _ = _circle(4, 4)
    p0 = _init_network(jax.random.key(0), 4)
    with pytest.raises(ValueError, match="y"):
        lin.train(_network, p0, x, y[:3], learning_rate=0.1, steps=2)
    with pytest.raises(ValueError, match="y must be finite"):
        lin.train(_network, p0, x, y.at[0, 0].set(jnp.inf), learning_rate=0.1, steps=2)
    with pytest.raises(TypeError, match="apply_fn"):
        lin.train("net", p0, x, y, learning_rate=0.1, steps=2)
    with pytest.raises(ValueError, match="x_test"):
        lin.train(_network, p0, x, y, learning_rate=0.1, steps=2, x_test=jnp.ones((3, 5)))


def test_linearize_bad_input():
    with pytest.raises(TypeError, match="apply_fn"):
        lin.linearize(3, {"a": jnp.ones(2)})
    with pytest.raises(TypeError, match="params0"):
        lin.linearize(_quadratic_model, {})
    f = lin.linearize(_quadratic_model, {"a": jnp.ones(2), "b": jnp.array(1.0)})
    with pytest.raises(ValueError, match="params"):
        f({"a": jnp.ones(3), "b": jnp.array(1.0)}, jnp.ones((1, 2)))


def test_mse_dynamics_bad_input():
    k = np.eye(3)
    with pytest.raises(ValueError, match="times"):
        lin.mse_dynamics(k, np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=1.0, times=-1.0)
    with pytest.raises(ValueError, match="times"):
        lin.mse_dynamics(k, np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=1.0, times=1.5, discrete=True)
    with pytest.raises(ValueError, match="kernel"):
        lin.mse_dynamics(np.eye(4), np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=1.0, times=1.0)
    with pytest.raises(ValueError, match="symmetric"):
        lin.mse_dynamics(np.triu(np.ones((3, 3))), np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=1.0, times=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        lin.mse_dynamics(k, np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=-1.0, times=1.0)
    with pytest.raises(ValueError, match="f0_test"):
        lin.mse_dynamics(
            k, np.zeros((3, 1)), np.zeros((3, 1)), learning_rate=1.0, times=1.0, kernel_test_train=np.ones((2, 3))
        )


def test_spectral_factors_against_direct_formulas():
    lam = jnp.array([0.0, 0.5, 2.0])
    a, t = 0.3, jnp.array([0.0, 2.0, 5.0])
    decay, res = lin.spectral_factors(lam, a, t)
    assert decay.shape == res.shape == (3, 3)
    lt, tt = np.asarray(lam)[None, 1:], np.asarray(t)[:, None]
    np.testing.assert_allclose(decay[:, 1:], np.exp(-a * lt * tt), atol=1e-15)
    np.testing.assert_allclose(res[:, 1:], (1 - np.exp(-a * lt * tt)) / lt, atol=1e-15)
    np.testing.assert_allclose(decay[:, 0], 1.0)  # a zero eigenvalue does not move ...
    np.testing.assert_allclose(res[:, 0], a * np.asarray(t), atol=1e-15)  # ... and its resolvent is the limit a t
    decay_d, res_d = lin.spectral_factors(lam, a, [3], discrete=True)
    np.testing.assert_allclose(decay_d[0, 1:], (1 - a * lt[0]) ** 3, atol=1e-15)
    np.testing.assert_allclose(res_d[0, 1:], (1 - (1 - a * lt[0]) ** 3) / lt[0], atol=1e-15)


def test_spectral_factors_give_the_closed_form_of_mse_dynamics_and_trace():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 6))
    k = a @ a.T
    f0, y = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    lam, v = np.linalg.eigh(k)
    decay, _ = jax.jit(lambda r: lin.spectral_factors(jnp.asarray(lam), r, jnp.array([2.5])))(0.4 / 4)
    tr, _ = lin.mse_dynamics(k, f0, y, learning_rate=0.4, times=[2.5])
    np.testing.assert_allclose(y + v @ (decay[0][:, None] * (v.T @ (f0 - y))), tr[0], atol=1e-12)


def test_spectral_factors_bad_input():
    with pytest.raises(ValueError, match="rate"):
        lin.spectral_factors(jnp.ones(3), 0.0, [1.0])
    with pytest.raises(ValueError, match="eigenvalues"):
        lin.spectral_factors(jnp.ones((3, 3)), 1.0, [1.0])
    with pytest.raises(ValueError, match="times"):
        lin.spectral_factors(jnp.ones(3), 1.0, [-1.0])
    with pytest.raises(ValueError, match="times"):
        lin.spectral_factors(jnp.ones(3), 1.0, [0.5], discrete=True)
