"""Tests of ntkbook._random: its draws are jax.random.normal's numbers, bit for bit, with fewer compilations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import _random

SHAPES = [(), (5, 7), (2, 3, 4), (4097,)]
KEYS = [jax.random.key(3), jax.random.PRNGKey(5)]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", KEYS, ids=["typed", "raw"])
@pytest.mark.parametrize("dtype", [None, jnp.float32])
def test_normal_is_jax_random_normal(shape, key, dtype):
    want = jax.random.normal(key, shape, dtype=dtype or jnp.float64)
    assert _same(_random.normal(key, shape, dtype), want)
    assert _same(jax.jit(lambda k: _random.normal(k, shape, dtype))(key), want)  # traced: jax.random.normal itself


def test_short_draws_share_one_compilation():
    key = jax.random.key(0)
    _random.normal(key, (2,))
    before = _random._row._cache_size()
    for shape in [(3,), (5, 7), (64, 64), (1, 4096)]:  # all at most MIN_LENGTH numbers
        _random.normal(key, shape)
    assert _random._row._cache_size() == before


def test_draw_length():
    for n in (0, 1, 5, 4096, 4097, 10_000, 2**20):
        d = _random.draw_length(n)
        assert d >= max(n, _random.MIN_LENGTH) and d & (d - 1) == 0
        assert d == _random.MIN_LENGTH or d < 2 * n


@pytest.mark.parametrize(
    "sizes", [[2048, 256, 256, 1], [16384, 256, 65536, 256, 2560, 10], [7], [1, 1, 1], [10**6, 3, 10**6]]
)
def test_groups_cover_every_draw_once_and_waste_little(sizes):
    groups = _random.group_by_length(sizes)
    assert sorted(i for g in groups for i in g) == list(range(len(sizes)))
    for g in groups:
        assert all(sizes[g[0]] >= sizes[i] for i in g)
        drawn, kept = len(g) * sizes[g[0]], sum(sizes[i] for i in g)
        assert drawn <= max(2 * kept, 2**14)


@pytest.mark.parametrize("shapes", [[(2, 2048), (2048,), (2048, 1), (1,)], [(300, 300), (7,)]])
def test_normals_eager_jit_and_vmap(shapes):
    keys = jax.random.split(jax.random.key(1), len(shapes))
    want = [jax.random.normal(keys[i], s) for i, s in enumerate(shapes)]
    for got in (_random.normals(keys, shapes), jax.jit(lambda k: _random.normals(k, shapes))(keys)):
        assert all(_same(g, w) for g, w in zip(got, want))
    batch = jax.random.split(jax.random.key(2), 3)
    many = jax.vmap(lambda k: _random.normals(jax.random.split(k, len(shapes)), shapes))(batch)
    ref = jax.vmap(lambda k: [jax.random.normal(kk, s) for kk, s in zip(jax.random.split(k, len(shapes)), shapes)])(
        batch
    )
    assert all(_same(g, w) for g, w in zip(many, ref))


@pytest.mark.parametrize("n_keys, raw", [(13, False), (5, True)])  # not multiples of KEY_CHUNK
def test_split_normals_is_split_then_normal(n_keys, raw):
    keys = jax.random.split(jax.random.PRNGKey(4) if raw else jax.random.key(4), n_keys)
    shapes_list = [[(2, 8), (8,), (8, 1), (1,)], [(2, 3000), (3000,), (3000, 1), (1,)]]
    got = _random.split_normals(keys, 4, shapes_list, jnp.float64)
    sub = jax.vmap(lambda k: jax.random.split(k, 4))(keys)
    for j, shapes in enumerate(shapes_list):
        for i, s in enumerate(shapes):
            want = jax.vmap(lambda k, s=s: jax.random.normal(k, s))(sub[:, i])
            assert _same(got[j][i], want), (j, i)
