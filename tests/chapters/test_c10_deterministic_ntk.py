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
    assert len(claims) == 12


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
