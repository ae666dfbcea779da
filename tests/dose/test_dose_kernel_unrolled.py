"""The unrolled four-parameter paths of the dose kernel (``lm._chol_solve4`` and the compiled
``gram()`` for k = 4) do the same operations in the same order as the general loops: the
results are equal bit for bit, not only close (tolerance: none)."""

from __future__ import annotations

import numpy as np

from kinresist.dose.lm import chol_solve


def _spd(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    m = rng.normal(size=(n, k, k))
    a = np.einsum("nij,nkj->nik", m, m) + 1e-3 * np.eye(k)
    return np.moveaxis(a, 0, -1)  # (k, k, curves): the dialect's NumPy layout


def test_unrolled_cholesky_equals_the_general_loop_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    a4 = _spd(rng, n, 4)
    a4[:, :, :5] = np.array([[1.0, 2, 0, 0], [2, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])[
        :, :, None
    ]  # not positive definite
    g4 = rng.normal(size=(4, n))
    # the same system with a fifth, decoupled unknown takes the general loop (k = 5)
    a5 = np.zeros((5, 5, n))
    a5[:4, :4] = a4
    a5[4, 4] = 1.0
    g5 = np.zeros((5, n))
    g5[:4] = g4
    s4, s5 = np.empty((4, n)), np.empty((5, n))
    with np.errstate(all="ignore"):
        bad4 = chol_solve(a4, g4, np.empty((4, 4, n)), np.empty((4, n)), s4, 4)
        bad5 = chol_solve(a5, g5, np.empty((5, 5, n)), np.empty((5, n)), s5, 5)
    assert np.array_equal(bad4, bad5)
    assert bad4[:5].all()
    assert not bad4[5:].any()
    assert (s4[:, :5] == 0).all()
    assert np.array_equal(s4, s5[:4])
    # and it solves the system
    ok = ~bad4
    resid = np.einsum("ijn,jn->in", a4[:, :, ok], s4[:, ok]) - g4[:, ok]
    assert np.abs(resid).max() < 1e-8 * np.abs(g4).max()


def test_compiled_gram_for_four_parameters_equals_the_general_loop_bit_for_bit() -> None:
    from numba import njit

    from kinresist.dose import _dialect

    _dialect.register_numba()
    gram = _dialect.gram

    @njit
    def both(jac, res, idx4, idx5, a4, g4, a5, g5):  # type: ignore[no-untyped-def]
        gram(jac, res, idx4, a4, g4)
        gram(jac, res, idx5, a5, g5)

    rng = np.random.default_rng(11)
    for m in (1, 9, 24):
        jac, res = rng.normal(size=(5, m)), rng.normal(size=m)
        idx4, idx5 = np.array([0, 2, 1, 3]), np.array([0, 2, 1, 3, 4])
        a4, g4, a5, g5 = np.empty((4, 4)), np.empty(4), np.empty((5, 5)), np.empty(5)
        both(jac, res, idx4, idx5, a4, g4, a5, g5)
        assert np.array_equal(a4, a5[:4, :4])
        assert np.array_equal(g4, g5[:4])
        assert np.array_equal(a4, a4.T)
        sub = jac[idx4]
        assert np.allclose(a4, sub @ sub.T, rtol=1e-13, atol=1e-13)
        assert np.allclose(g4, sub @ res, rtol=1e-13, atol=1e-13)
