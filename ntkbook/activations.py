"""Elementwise activation functions by name, shared by the network and the kernels.

``get(activation)`` accepts a name from ``NAMES`` or any callable that maps an array to
an array of the same shape (applied elementwise). The closed-form kernel maps of some of these
live in :mod:`ntkbook.nngp`; any other activation goes through Gauss-Hermite quadrature there.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__ = ["NAMES", "Activation", "erf", "gelu", "get", "identity", "name_of", "relu", "sigmoid", "tanh"]

Activation = Callable[[jax.Array], jax.Array]


def identity(x: jax.Array) -> jax.Array:
    return x


def relu(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0)


def erf(x: jax.Array) -> jax.Array:
    return jax.scipy.special.erf(x)


def tanh(x: jax.Array) -> jax.Array:
    return jnp.tanh(x)


def sigmoid(x: jax.Array) -> jax.Array:
    return jax.nn.sigmoid(x)


def gelu(x: jax.Array) -> jax.Array:
    # The exact GELU, x * Phi(x), not the tanh approximation.
    return jax.nn.gelu(x, approximate=False)


_BY_NAME: dict[str, Activation] = {
    "identity": identity,
    "linear": identity,
    "relu": relu,
    "erf": erf,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "gelu": gelu,
}

NAMES = tuple(sorted(_BY_NAME))


def get(activation: str | Activation, name: str = "activation") -> Activation:
    """The activation function for a name (case-insensitive) or a user callable."""
    if isinstance(activation, str):
        try:
            return _BY_NAME[activation.lower()]
        except KeyError:
            raise ValueError(f"{name} must be one of {', '.join(NAMES)} or a callable, got {activation!r}") from None
    if callable(activation):
        return activation
    raise TypeError(f"{name} must be a name ({', '.join(NAMES)}) or a callable, got {type(activation).__name__}")


def name_of(activation: str | Activation) -> str | None:
    """The canonical name of a named activation (``"linear"`` gives ``"identity"``), else ``None``."""
    if isinstance(activation, str):
        fn = get(activation)
    else:
        fn = activation
    for key, value in _BY_NAME.items():
        if value is fn and key != "linear":
            return key
    return None
