"""Arbitrary-precision oracles for the layer maps and the recursion, by numerical integration in mpmath
(independent of the library: no closed form, no float64 quadrature of it).

One-dimensional Gaussian expectations ``E[F(s z)]``, ``z ~ N(0, 1)``, are integrated by a composite
Gauss--Legendre rule at ``DPS`` digits on panels graded geometrically toward the activations'
transition at ``z = 0`` (panel ends ``±2^-j/s``, then unit panels out to ``±Z``): a transition of
width ``1/s`` is resolved at every scale, and a kink at ``0`` (ReLU) is a panel end.
:func:`check_rule` holds this rule against ``mpmath.quad`` (tanh--sinh).

Off the diagonal the 2-D expectation is summed by Mehler's expansion of the bivariate Gaussian
density in the orthonormal Hermite polynomials ``h_k = He_k / sqrt(k!)``,

    E[f(u) g(v)] = sum_k c^k E[f(s1 z) h_k(z)] E[g(s2 z) h_k(z)],    (u, v) = (s1 z1, s2 z2), corr c,

whose coefficients are one-dimensional integrals on the rule above; for ``|c| <= C_MAX`` the terms
fall like ``|c|^k`` and the sum is cut at ``k = KMAX`` (``C_MAX^KMAX = 3e-21``). The derivative kernel needs no
``σ'``: Gaussian integration by parts gives ``E[σ'(s z) h_k(z)] = sqrt(k + 1) E[σ(s z) h_{k+1}(z)] / s``.
On the diagonal (``c = 1``), and for the variances, the one-dimensional rule with ``σ'`` written out
(:data:`DERIVATIVES`). Results are cached: each (activation, scale) costs a fraction of a second.
"""

import functools

import mpmath as mp

DPS = 20
Z = 11  # the Gaussian mass beyond |z| = 11 is 3.8e-28
GL_NODES = 16  # per panel
C_MAX = 0.65  # |c| <= C_MAX: the Mehler sum converges like |c|^k
KMAX = 110  # C_MAX^KMAX = 3e-21: the terms kept

mp.mp.dps = DPS

FUNCTIONS = {
    "identity": lambda x: x,
    "relu": lambda x: x if x > 0 else mp.mpf(0),
    "erf": mp.erf,
    "tanh": mp.tanh,
    "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "gelu": lambda x: x * mp.ncdf(x),
}
DERIVATIVES = {
    "identity": lambda x: mp.mpf(1),
    "relu": lambda x: mp.mpf(1) if x > 0 else mp.mpf(0),
    "erf": lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x),
    "tanh": lambda x: 1 / mp.cosh(x) ** 2,
    "sigmoid": lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2,
    "gelu": lambda x: mp.ncdf(x) + x * mp.npdf(x),
}


@functools.cache
def _gl():
    with mp.workdps(DPS):
        x, w = mp.gauss_quadrature(GL_NODES, "legendre")
        return [mp.mpf(t) for t in x], [mp.mpf(t) for t in w]


@functools.cache
def rule(s):
    """Nodes ``z_i`` and weights ``w_i φ(z_i)`` with ``E[F(s z)] ≈ sum_i w_i φ(z_i) F(s z_i)``, for ``s = float``."""
    with mp.workdps(DPS):
        s = mp.mpf(s)
        ends = {mp.mpf(0)}
        width = 1 / s
        while width < 1:
            ends.add(width)
            width *= 2
        ends.update(mp.mpf(k) for k in range(1, Z + 1))
        ends = sorted(ends)
        ends = sorted({-e for e in ends} | set(ends))
        x, w = _gl()
        nodes, weights = [], []
        for a, b in zip(ends[:-1], ends[1:]):
            half, mid = (b - a) / 2, (a + b) / 2
            for t, wt in zip(x, w):
                z = mid + half * t
                nodes.append(z)
                weights.append(half * wt * mp.npdf(z))
        return nodes, weights


def expect(F, s):
    """``E[F(s z)]`` for ``z ~ N(0, 1)`` (an mpf)."""
    with mp.workdps(DPS):
        nodes, weights = rule(s)
        return mp.fsum(w * F(mp.mpf(s) * z) for z, w in zip(nodes, weights))


@functools.cache
def hermite_coefficients(activation, s):
    """``[E[σ(s z) h_k(z)] for k = 0..KMAX + 1]`` (mpf), ``h_k`` orthonormal Hermite polynomials."""
    f = FUNCTIONS[activation]
    kmax = KMAX + 1
    with mp.workdps(DPS):
        nodes, weights = rule(s)
        coef = [mp.mpf(0)] * (kmax + 1)
        root = [mp.sqrt(k) for k in range(kmax + 2)]
        inv = [1 / r if r else 0 for r in root]
        for z, w in zip(nodes, weights):
            fw = w * f(mp.mpf(s) * z)
            h_prev, h = mp.mpf(0), mp.mpf(1)
            for k in range(kmax + 1):
                coef[k] += fw * h
                h_prev, h = h, (z * h - root[k] * h_prev) * inv[k + 1]
        return coef


@functools.cache
def diagonal(activation, s):
    """``(E[σ(u)²], E[σ'(u)²])`` for ``u ~ N(0, s²)`` (mpf)."""
    f, df = FUNCTIONS[activation], DERIVATIVES[activation]
    return expect(lambda x: f(x) ** 2, s), expect(lambda x: df(x) ** 2, s)


def layer_map(activation, v1, v2, cov):
    """``(E[σ(u)σ(v)], E[σ'(u)σ'(v)], E[σ(u)²], E[σ(v)²])`` (mpf) for ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])``.
    ``v1, v2 > 0``; off the diagonal ``|c| <= C_MAX``; ``c = ±1`` exactly (parallel inputs) by the 1-D rule."""
    with mp.workdps(DPS):
        v1, v2, cov = mp.mpf(v1), mp.mpf(v2), mp.mpf(cov)
        s1, s2 = mp.sqrt(v1), mp.sqrt(v2)
        c = cov / (s1 * s2)
        var1, var2 = diagonal(activation, float(s1))[0], diagonal(activation, float(s2))[0]
        if v1 == v2 and cov == v1:  # the diagonal, c = 1: one-dimensional
            d = diagonal(activation, float(s1))
            return d[0], d[1], var1, var2
        if abs(c) > C_MAX:
            raise ValueError(f"the Mehler oracle needs |c| <= {C_MAX}, got c = {mp.nstr(c, 6)}")
        a = hermite_coefficients(activation, float(s1))
        b = hermite_coefficients(activation, float(s2))
        sig = mp.fsum(c**k * a[k] * b[k] for k in range(KMAX + 1))
        dot = mp.fsum(c**k * (k + 1) * a[k + 1] * b[k + 1] for k in range(KMAX + 1)) / (s1 * s2)
        return sig, dot, var1, var2


def recursion(activation, x1, x2, beta, depth):
    """``(Σ^(depth)(x1, x2), K^(depth)(x1, x2), Σ^(depth)(x1, x1), K^(depth)(x1, x1), Σ(x2, x2), K(x2, x2))``
    as floats, for two input vectors (sequences of floats), every layer by :func:`layer_map`."""
    with mp.workdps(DPS):
        n0 = len(x1)
        b2 = mp.mpf(beta) ** 2
        dot = lambda p, q: mp.fsum(mp.mpf(a) * mp.mpf(b) for a, b in zip(p, q)) / n0  # noqa: E731
        cov, v1, v2 = dot(x1, x2) + b2, dot(x1, x1) + b2, dot(x2, x2) + b2
        k, k1, k2 = cov, v1, v2
        for _ in range(depth - 1):
            sig, sdot, w1, w2 = layer_map(activation, v1, v2, cov)
            d1 = diagonal(activation, float(mp.sqrt(v1)))[1]
            d2 = diagonal(activation, float(mp.sqrt(v2)))[1]
            cov = sig + b2
            k = cov + k * sdot
            k1 = w1 + b2 + k1 * d1
            k2 = w2 + b2 + k2 * d2
            v1, v2 = w1 + b2, w2 + b2
        return tuple(float(t) for t in (cov, k, v1, k1, v2, k2))


def check_rule(activation, s):
    """``(rule, mpmath.quad)`` of ``E[σ(s z)²]``: the panel rule against tanh--sinh with a break at 0."""
    f = FUNCTIONS[activation]
    with mp.workdps(DPS):
        ref = mp.quad(lambda z: f(mp.mpf(s) * z) ** 2 * mp.npdf(z), [-Z, -1, 0, 1, Z])
        return expect(lambda x: f(x) ** 2, s), ref
