"""Kernel and Transfer: the algebra of lag polynomials, checked against definitions.

References: tests/naive.py (loops), numpy.polynomial (polymul *is* convolution),
statsmodels.tsa.arima_process.ArmaProcess (the lag-polynomial convention we adopt).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.polynomial import Polynomial
from statsmodels.tsa.arima_process import ArmaProcess

import naive
from tsconv import Kernel, Transfer

# ---------------------------------------------------------------------------------------
# strategies and helpers
# ---------------------------------------------------------------------------------------
coefs = st.lists(st.floats(-2.0, 2.0, allow_nan=False, width=64), min_size=1, max_size=7)
origins = st.integers(-4, 9)


@st.composite
def kernels(draw, causal=False, lead=False):
    c = draw(coefs)
    if lead:  # a lead bounded away from zero, for power-series inverses
        c[0] = draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.5, 2.0))
    return Kernel(c, 0 if causal else draw(origins))


def lag_map(k: Kernel) -> dict[int, float]:
    """The kernel as {lag: coefficient}: the definition of the operator."""
    return {int(lag): float(c) for lag, c in zip(k.lags, k.coef) if c != 0.0}


def assert_same_operator(a: Kernel, b: Kernel, rtol=1e-9, atol=1e-9) -> None:
    """Equal as operators: the same coefficient at every lag (within tolerance)."""
    da, db = lag_map(a), lag_map(b)
    scale = max([1.0, *map(abs, da.values()), *map(abs, db.values())])
    for lag in set(da) | set(db):
        assert abs(da.get(lag, 0.0) - db.get(lag, 0.0)) <= atol * scale + rtol * abs(db.get(lag, 0.0)), lag


# ---------------------------------------------------------------------------------------
# construction and value semantics
# ---------------------------------------------------------------------------------------
def test_coefficients_are_a_read_only_float64_copy():
    src = np.array([1, 2, 3])
    k = Kernel(src, origin=1)
    assert k.coef.dtype == np.float64 and not k.coef.flags.writeable
    src[0] = 99
    assert k.coef[0] == 1.0
    with pytest.raises(ValueError):
        k.coef[0] = 5.0


def test_lags_and_causality_follow_the_convention():
    # y[t] = sum_k coef[k] x[t - k + origin]: coef[k] acts at lag k - origin
    k = Kernel([1.0, 2.0, 3.0], origin=1)
    assert k.lags.tolist() == [-1, 0, 1]
    assert not k.is_causal
    assert Kernel([0.0, 2.0, 3.0], origin=1).is_causal  # zero weight at lag -1
    assert Kernel([1.0, 2.0], origin=-3).is_causal  # a pure delay
    assert len(k) == 3


@given(kernels())
def test_repr_round_trips(k):
    assert eval(repr(k)) == k  # noqa: S307 - the round-trip is the property under test
    t = Transfer(k.coef, [1.0, -0.5])
    assert eval(repr(t)) == t  # noqa: S307


def test_equality_ignores_zero_padding_and_hash_agrees():
    a = Kernel([1.0, 2.0])
    b = Kernel([0.0, 1.0, 2.0, 0.0], origin=1)
    assert a == b and hash(a) == hash(b)
    assert a != Kernel([1.0, 2.0], origin=1)
    assert (a == 3) is False


@pytest.mark.parametrize(
    ("coef", "origin", "exc", "match"),
    [
        ([], 0, ValueError, r"coef must not be empty, got shape \(0,\)"),
        ([1.0, np.nan], 0, ValueError, r"coef must be finite, got nan at index 1"),
        ([1.0, np.inf], 0, ValueError, r"coef must be finite, got inf at index 1"),
        (["a", "b"], 0, TypeError, r"coef must be real numeric, got dtype <U1"),
        ([1 + 2j], 0, TypeError, r"coef must be real, got complex dtype complex128"),
        ([True, False], 0, TypeError, r"coef must be real numeric, got dtype bool"),
        ([[1.0, 2.0]], 0, ValueError, r"coef must be 1-D, got 2-D"),
        ([1.0], 1.5, TypeError, r"origin must be an integer, got 1.5"),
        ([1.0], True, TypeError, r"origin must be an integer, got True"),
        ("abc", 0, TypeError, r"coef must be a real numeric array, got 'abc'"),
    ],
)
def test_bad_kernels_are_refused_with_named_errors(coef, origin, exc, match):
    with pytest.raises(exc, match=match):
        Kernel(coef, origin)


# ---------------------------------------------------------------------------------------
# algebra
# ---------------------------------------------------------------------------------------
@given(kernels(), kernels(), kernels())
def test_composition_is_associative(a, b, c):
    assert_same_operator((a @ b) @ c, a @ (b @ c))


@given(kernels())
def test_delta_is_the_identity(k):
    delta = Kernel([1.0])
    assert delta @ k == k and k @ delta == k


@given(kernels(), kernels())
def test_composition_is_polynomial_multiplication(a, b):
    # numpy.polynomial: polymul of the coefficient arrays; origins add (B**-o factors)
    ab = a @ b
    prod = a.to_polynomial() * b.to_polynomial()
    np.testing.assert_allclose(ab.coef, np.r_[prod.coef, np.zeros(len(ab) - prod.coef.size)], atol=1e-12)
    assert ab.origin == a.origin + b.origin


@given(kernels(), kernels())
def test_convolution_theorem(a, b):
    # the DFT (zero-padded past the support) of a composition is the product of the DFTs
    size = len(a) + len(b) - 1
    fa = np.fft.fft(a.coef, size)
    fb = np.fft.fft(b.coef, size)
    np.testing.assert_allclose(np.fft.fft((a @ b).coef, size), fa * fb, atol=1e-10)
    # and the frequency responses (origins included) multiply
    w = np.linspace(0.0, np.pi, 17)
    _, ha = a.frequency_response(w)
    _, hb = b.frequency_response(w)
    _, hab = (a @ b).frequency_response(w)
    np.testing.assert_allclose(hab, ha * hb, atol=1e-10)


@given(kernels(), kernels())
def test_sum_and_difference_align_by_lag(a, b):
    da, db = lag_map(a), lag_map(b)
    for op, sign in ((a + b, 1.0), (a - b, -1.0)):
        d = lag_map(op)
        for lag in set(da) | set(db) | set(d):
            assert d.get(lag, 0.0) == pytest.approx(da.get(lag, 0.0) + sign * db.get(lag, 0.0), abs=1e-12)


@given(kernels(), st.floats(-3.0, 3.0), st.integers(-5, 5))
def test_scaling_shift_and_negation(k, s, lag):
    assert_same_operator(k * s, Kernel(k.coef * s, k.origin))
    assert_same_operator(s * k, k * s)
    assert_same_operator(-k, Kernel(-k.coef, k.origin))
    if abs(s) > 1e-3:
        assert_same_operator(k / s, Kernel(k.coef / s, k.origin))
    # shift(l) is B**l @ k: every lag moves by l
    shifted = k.shift(lag)
    assert lag_map(shifted) == {d + lag: c for d, c in lag_map(k).items()}
    assert_same_operator(shifted, Kernel([1.0], origin=-lag) @ k)


def test_scalar_operations_refuse_bad_operands():
    k = Kernel([1.0, 2.0])
    with pytest.raises(TypeError, match="use '@' to compose"):
        k * k
    with pytest.raises(ValueError, match="scalar must be finite, got nan"):
        k * float("nan")
    with pytest.raises(ValueError, match="scalar must be finite and non-zero, got 0"):
        k / 0
    with pytest.raises(TypeError):
        k + 1.0


@given(kernels())
def test_reversed_twice_is_identity_and_flips_lags(k):
    assert k.reversed().reversed() == k
    assert lag_map(k.reversed()) == {-d: c for d, c in lag_map(k).items()}


@given(kernels(lead=True), st.integers(1, 12))
def test_inverse_is_the_power_series_inverse(k, n):
    inv = k.inverse(n)
    np.testing.assert_allclose(inv.coef, naive.power_series_inverse(k.coef, n), rtol=1e-9, atol=1e-9)
    assert inv.origin == -k.origin
    # k.inverse(n) @ k == delta up to lag n - 1 (the truncation shows only after that)
    prod = inv @ k
    assert prod.origin == 0
    scale = 1.0 + np.abs(inv.coef).max() * np.abs(k.coef).sum()
    np.testing.assert_allclose(prod.coef[:n], np.eye(1, n)[0], atol=1e-12 * scale)


def test_inverse_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"non-zero leading coefficient, got coef\[0\] = 0.0"):
        Kernel([0.0, 1.0]).inverse(3)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        Kernel([1.0]).inverse(0)
    with pytest.raises(TypeError, match="n must be an integer, got 2.5"):
        Kernel([1.0]).inverse(2.5)


@given(kernels())
def test_normalized_sums_to_one_or_refuses(k):
    total = k.coef.sum()
    if abs(total) > 1e-6 * np.abs(k.coef).sum():
        assert k.normalized().coef.sum() == pytest.approx(1.0)
        assert_same_operator(k.normalized() * total, k)
    else:
        with pytest.raises(ValueError, match="sum to zero"):
            k.normalized()


def test_normalized_difference_names_the_sum():
    with pytest.raises(ValueError, match=r"coefficients sum to zero, got sum 0.0"):
        Kernel([1.0, -1.0]).normalized()


@given(kernels(), st.floats(0.1, 10.0))
def test_softmax_is_a_probability_density_over_the_same_lags(k, temp):
    p = k.softmax(temp)
    assert np.all(p.coef > 0) and p.coef.sum() == pytest.approx(1.0)
    assert p.origin == k.origin and len(p) == len(k)
    # exp(c / T) / sum: the log-ratios are the coefficient differences over T
    np.testing.assert_allclose(np.log(p.coef) - np.log(p.coef[0]), (k.coef - k.coef[0]) / temp, atol=1e-9)


@pytest.mark.parametrize("temp", [0, -1.0, float("nan"), "hot"])
def test_softmax_refuses_bad_temperatures(temp):
    with pytest.raises(ValueError, match=f"temperature must be a finite number > 0, got {temp!r}"):
        Kernel([1.0, 2.0]).softmax(temp)


# ---------------------------------------------------------------------------------------
# analysis and conversions
# ---------------------------------------------------------------------------------------
@given(kernels())
def test_frequency_response_is_the_direct_sum(k):
    w = np.linspace(0.0, np.pi, 33)
    w_out, h = k.frequency_response(w)
    # H(w) = sum_k coef[k] exp(-i w lag_k)
    direct = np.array([sum(c * np.exp(-1j * wi * lag) for c, lag in zip(k.coef, k.lags)) for wi in w])
    np.testing.assert_allclose(h, direct, atol=1e-12)
    np.testing.assert_array_equal(w_out, w)
    w8, h8 = k.frequency_response(8)
    np.testing.assert_allclose(w8, np.arange(8) * np.pi / 8)  # like scipy.signal.freqz
    assert h8.shape == (8,)


@pytest.mark.parametrize("worN", [0, -3, [], [[0.1]], [np.nan], "x"])
def test_frequency_grid_errors(worN):
    with pytest.raises((ValueError, TypeError), match="worN"):
        Kernel([1.0]).frequency_response(worN)


@given(kernels())
def test_polynomial_round_trip_and_evaluation(k):
    p = k.to_polynomial()
    assert Kernel.from_polynomial(p, k.origin) == k
    z = 0.3 - 0.7j
    assert p(z) == pytest.approx(sum(c * z**i for i, c in enumerate(k.coef)))
    with pytest.raises(TypeError, match="poly must be a numpy.polynomial.Polynomial, got list"):
        Kernel.from_polynomial([1.0, 2.0])


@given(kernels(causal=True, lead=True), st.floats(0.5, 2.0))
def test_roots_follow_statsmodels_arma_process(k, last):
    k = Kernel(np.r_[k.coef, last])  # a degree that is the length minus one
    # pin statsmodels' convention: ArmaProcess(ar=poly).arroots are the roots of
    # sum_k ar[k] z**k, the same polynomial our Kernel.roots() uses
    ours = np.sort_complex(k.roots())
    theirs = np.sort_complex(np.asarray(ArmaProcess(ar=k.coef).arroots, dtype=complex))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)
    # and they are roots: the polynomial vanishes there (relative to its terms' size)
    terms = np.abs(k.coef)[None, :] * np.abs(ours)[:, None] ** np.arange(len(k))[None, :]
    assert np.all(np.abs(np.polyval(k.coef[::-1], ours)) <= 1e-8 * terms.sum(axis=1))


def test_lag_polynomial_conversions_match_statsmodels():
    phi, theta = [0.5, -0.2], [0.4]
    proc = ArmaProcess.from_coeffs(arcoefs=phi, macoefs=theta)
    ar, ma = Kernel.from_ar_params(phi), Kernel.from_ma_params(theta)
    np.testing.assert_array_equal(ar.to_lag_polynomial(), proc.ar)  # [1, -0.5, 0.2]
    np.testing.assert_array_equal(ma.to_lag_polynomial(), proc.ma)  # [1, 0.4]
    assert Kernel.from_lag_polynomial(proc.ar) == ar
    # psi weights: statsmodels' impulse response of the ARMA = our Transfer(ma, ar)
    np.testing.assert_allclose(Transfer(ma, ar).impulse_response(20).coef, proc.impulse_response(20), atol=1e-14)
    # pi weights: statsmodels' arma2ar = the power-series inverse, i.e. Transfer(ar, ma)
    np.testing.assert_allclose(Transfer(ar, ma).impulse_response(20).coef, proc.arma2ar(20), atol=1e-14)
    np.testing.assert_allclose((ma.inverse(20) @ ar).coef[:20], proc.arma2ar(20), atol=1e-14)
    assert Kernel.from_ar_params([]) == Kernel([1.0])


def test_lag_polynomial_of_shifted_kernels():
    assert Kernel([1.0, 2.0], origin=-2).to_lag_polynomial().tolist() == [0.0, 0.0, 1.0, 2.0]
    assert Kernel([0.0, 1.0, 2.0], origin=1).to_lag_polynomial().tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"only a causal kernel is a lag polynomial, got lags \[-1, 0\]"):
        Kernel([1.0, 1.0], origin=1).to_lag_polynomial()


# ---------------------------------------------------------------------------------------
# Transfer
# ---------------------------------------------------------------------------------------
stable_dens = st.lists(st.floats(-0.45, 0.45), min_size=0, max_size=2).map(lambda p: [1.0, *p])


@st.composite
def transfers(draw):
    # |a1| + |a2| < 1 keeps every root of den outside the unit circle (stable)
    num = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4))
    return Transfer(num, draw(stable_dens))


@given(transfers(), st.integers(1, 25))
def test_impulse_response_is_the_recursion(tr, n):
    impulse = [1.0] + [0.0] * (n - 1)
    expected = naive.recursion(tr.num.coef, tr.den.coef, impulse)
    got = tr.impulse_response(n)
    assert got.origin == 0 and len(got) == n
    np.testing.assert_allclose(got.coef, expected, rtol=1e-12, atol=1e-12)


@given(transfers(), transfers(), kernels(causal=True))
def test_transfer_composition(a, b, k):
    n = 20
    ha, hb, hk = a.impulse_response(n).coef, b.impulse_response(n).coef, k.coef
    np.testing.assert_allclose((a @ b).impulse_response(n).coef, np.convolve(ha, hb)[:n], atol=1e-10)
    np.testing.assert_allclose((a @ k).impulse_response(n).coef, np.convolve(ha, hk)[:n], atol=1e-10)
    np.testing.assert_allclose((k @ a).impulse_response(n).coef, np.convolve(hk, ha)[:n], atol=1e-10)
    np.testing.assert_allclose((a * 2.5).impulse_response(n).coef, 2.5 * ha, atol=1e-12)


@given(transfers())
def test_transfer_inverse_composes_to_delta(tr):
    if abs(tr.num.coef[0]) < 0.3:  # keep the inverse well conditioned
        return
    n = 15
    ident = (tr.inverse() @ tr).impulse_response(n).coef
    np.testing.assert_allclose(ident, np.eye(1, n)[0], atol=1e-9 * (1 + np.abs(tr.inverse().impulse_response(n).coef).max()))


def test_transfer_inverse_of_a_delay_is_refused():
    with pytest.raises(ValueError, match="numerator has a zero lead"):
        Transfer([0.0, 1.0], [1.0]).inverse()


@pytest.mark.parametrize(
    ("den", "stable"),
    [([1.0, -0.5], True), ([1.0, -1.0], False), ([1.0, -2.0], False), ([1.0, -1.2, 0.5], True), ([1.0, 0.1, -1.2], False), ([2.0], True)],
)
def test_is_stable_agrees_with_roots_and_statsmodels(den, stable):
    tr = Transfer([1.0], den)
    roots_b = np.roots(den[::-1]) if len(den) > 1 else np.array([])  # roots in the lag operator B
    assert tr.is_stable == bool(np.all(np.abs(roots_b) > 1.0)) == stable
    assert tr.is_stable == ArmaProcess(ar=den).isstationary or len(den) == 1
    np.testing.assert_allclose(np.sort_complex(tr.poles), np.sort_complex(roots_b.astype(complex)))
    if stable:  # a stable impulse response dies out
        assert abs(tr.impulse_response(400).coef[-1]) < 1e-6


@given(transfers())
def test_transfer_frequency_response_is_the_ratio(tr):
    w = np.linspace(0.0, np.pi, 21)
    z = np.exp(-1j * w)
    num = sum(c * z**i for i, c in enumerate(tr.num.coef))
    den = sum(c * z**i for i, c in enumerate(tr.den.coef))
    np.testing.assert_allclose(tr.frequency_response(w)[1], num / den, rtol=1e-10, atol=1e-12)


def test_transfer_equality_is_up_to_a_common_scale():
    assert Transfer([1.0, 0.5], [1.0, -0.5]) == Transfer([2.0, 1.0], [2.0, -1.0])
    assert Transfer([1.0], [1.0, -0.5]) != Transfer([1.0], [1.0, -0.4])


@pytest.mark.parametrize(
    ("num", "den", "exc", "match"),
    [
        ([1.0], [0.0, 1.0], ValueError, r"den must have a non-zero zero-lag coefficient, got den\[0\] = 0.0"),
        (Kernel([1.0, 1.0], origin=1), [1.0], ValueError, r"num must be causal \(no negative lags\), got lags \[-1, 0\]"),
        ([1.0], Transfer([1.0], [1.0]), TypeError, "den must be a causal Kernel or coefficients, got a Transfer"),
        ([np.nan], [1.0], ValueError, "coef must be finite"),
    ],
)
def test_bad_transfers(num, den, exc, match):
    with pytest.raises(exc, match=match):
        Transfer(num, den)


def test_roots_ignore_negligible_trailing_coefficients():
    # a denormal last coefficient used to overflow numpy's companion matrix (LinAlgError)
    r = Kernel([1.0, -0.5, 1e-320]).roots()
    np.testing.assert_allclose(r, [2.0])
    np.testing.assert_allclose(np.sort(Kernel([1.0, -1.5, 0.5]).roots().real), [1.0, 2.0])


def test_negative_zero_hashes_as_zero():
    a, b = -Kernel([1.0, 0.0, -1.0]), Kernel([-1.0, 0.0, 1.0])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
