"""Side-by-side checks of the ARIMA kernels against statsmodels.

:func:`against_statsmodels` takes a statsmodels results object, rebuilds it as a
:class:`tsconv.ARIMA` and compares one-step predictions, residuals, forecast means and
forecast standard errors (a) with the results object as it is and (b) with the same
parameters under statsmodels' exact diffuse start
(``SARIMAX(..., use_exact_diffuse=True).filter(params)``). :func:`check_suite` runs it on
the built-in data sets; ``tsconv check`` calls it and exits 1 on any failure.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.signal
from numpy.typing import ArrayLike

from tsconv.arima import ARIMA, Start

__all__ = ["against_statsmodels", "check_suite", "VerificationReport"]

# Tolerances of issue 3 (relative to sd(y) for levels; relative for standard errors).
TOL_EXACT = 1e-9
TOL_APPROX_FORECAST = 1e-4
TOL_APPROX_PREDICT = 1e-8
TOL_APPROX_SE = 1e-4
BURN_IN_TOL = 1e-8


@dataclass
class VerificationReport:
    """The table of an :func:`against_statsmodels` comparison.

    Attributes
    ----------
    title : str
    rows : list of dict
        One per quantity: ``quantity``, ``reference``, ``n`` (values compared),
        ``max_abs_diff``, ``max_rel_diff`` (relative to ``sd(y)``, or to the reference
        value for standard errors), ``tolerance`` (on ``max_rel_diff``) and ``ok``.
    notes : list of str
        What the table alone does not say: a reference that is not what its row
        compares without an adjustment (a statsmodels behaviour worked around), or
        rows left without a comparison, and why. Printed under the table.
    """

    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every compared row passes (and at least one row was compared).

        A row with nothing to compare (``n == 0``, ``ok`` None) counts neither way.
        """
        done = [r for r in self.rows if r["ok"] is not None]
        return bool(done) and all(r["ok"] for r in done)

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame."""
        return pd.DataFrame(self.rows, columns=["quantity", "reference", "n", "max_abs_diff", "max_rel_diff", "tolerance", "ok"])

    def __str__(self) -> str:
        lines = [f"{self.title}: {'OK' if self.ok else 'FAILED'}"]
        lines.append(f"  {'quantity':<22} {'reference':<22} {'n':>6} {'max abs diff':>13} {'max rel diff':>13} {'tolerance':>10}  ok")
        for r in self.rows:
            lines.append(
                f"  {r['quantity']:<22} {r['reference']:<22} {r['n']:>6d} {r['max_abs_diff']:>13.3e} "
                f"{r['max_rel_diff']:>13.3e} {r['tolerance']:>10.1e}  {'n/a' if r['ok'] is None else 'yes' if r['ok'] else 'NO'}"
            )
        lines.extend(f"  note: {t}" for t in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _add(self, quantity: str, reference: str, ours: Any, theirs: Any, scale: Any, tol: float) -> None:
        a = np.asarray(ours, dtype=float).ravel()
        b = np.asarray(theirs, dtype=float).ravel()
        if a.size == 0:
            self.rows.append(dict(quantity=quantity, reference=reference, n=0, max_abs_diff=np.nan,
                                  max_rel_diff=np.nan, tolerance=tol, ok=None))
            return
        diff = np.abs(a - b)
        rel = diff / np.asarray(scale, dtype=float).ravel()
        finite = bool(np.all(np.isfinite(diff)))
        mabs = float(diff.max()) if diff.size else 0.0
        mrel = float(rel.max()) if rel.size else 0.0
        self.rows.append(dict(quantity=quantity, reference=reference, n=int(a.size), max_abs_diff=mabs,
                              max_rel_diff=mrel, tolerance=tol, ok=finite and a.size > 0 and mrel <= tol))


def _model_data(results: Any) -> tuple[np.ndarray, np.ndarray | None, str]:
    from statsmodels.tsa.ar_model import AutoRegResults
    from statsmodels.tsa.arima.model import ARIMAResults

    inner = getattr(results, "_results", results)
    model = inner.model
    y = np.asarray(model.data.orig_endog if hasattr(model, "data") else model.endog, dtype=float).ravel()
    if isinstance(inner, ARIMAResults):
        ex = model._input_exog
        ex = None if ex is None or np.size(ex) == 0 else np.asarray(ex, dtype=float)
        return y, ex, "ARIMA"
    if isinstance(inner, AutoRegResults):
        return y, None, "AutoReg"
    ex = model.exog
    return y, None if ex is None or np.size(ex) == 0 else np.asarray(ex, dtype=float), "SARIMAX"


def _state_starts(model: Any) -> list[str | None]:
    """statsmodels' initialization type of each state of a state-space model."""
    init = model.ssm.initialization
    k = int(model.ssm.k_states)
    if init.initialization_type is not None:
        return [init.initialization_type] * k
    types: list[str | None] = [None] * k
    for idx, block in init.blocks.items():
        for i in idx:
            types[int(i)] = block.initialization_type
    return types


def _variance_ratio(model: ARIMA) -> float:
    """The stationary variance of the ARMA part over ``sigma2``, ``sum psi_j^2`` (at least 1)."""
    ar, ma = model._ar_red, model._ma
    r = np.abs(model.roots()["ar"])
    n = 1000 if r.size == 0 else int(min(10**6, max(1000, 50 / max(1e-12, 1 - 1 / float(r.min())))))
    impulse = np.zeros(n)
    impulse[0] = 1.0
    psi = scipy.signal.lfilter(ma, ar, impulse)
    return max(1.0, float(np.dot(psi, psi)))


def _exact_statsmodels(model: ARIMA, y: np.ndarray, exog: np.ndarray | None) -> tuple[Any, Any]:
    """SARIMAX with the same parameters and an exact diffuse start; (results, trend exog builder)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    order = (list(model.ar_lags), model.d, list(model.ma_lags))
    s = model.seasonal_order[3]
    sorder = (list(model.seasonal_ar_lags), model.D, list(model.seasonal_ma_lags), s) if s else (0, 0, 0, 0)
    powers = [p for p in (0, 1) if p in model._powers]

    def trend_cols(t0: int, n: int) -> np.ndarray:
        tau = np.arange(t0, t0 + n, dtype=float) + model.trend_offset
        return np.column_stack([tau**k for k in powers]) if powers else np.zeros((n, 0))

    ex = exog
    if model.trend_form == "mean" and powers:
        ex = trend_cols(0, y.size) if exog is None else np.column_stack([trend_cols(0, y.size), exog])
        sm_model = SARIMAX(y, exog=ex, order=order, seasonal_order=sorder, use_exact_diffuse=True, tolerance=0)
    else:
        trend = {"n": "n", "c": "c", "t": "t", "ct": "ct"}[model.trend]
        sm_model = SARIMAX(y, exog=ex, order=order, seasonal_order=sorder, trend=trend,
                           trend_offset=model.trend_offset + 1, use_exact_diffuse=True, tolerance=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm_model.filter(model.to_statsmodels_params())
    return res, trend_cols


def against_statsmodels(
    results: Any,
    y: ArrayLike | None = None,
    exog: ArrayLike | None = None,
    *,
    steps: int = 24,
    exog_future: ArrayLike | None = None,
) -> VerificationReport:
    """Compare :class:`tsconv.ARIMA` with a statsmodels fit, quantity by quantity.

    Parameters
    ----------
    results : statsmodels results
        ``ARIMAResults``, ``SARIMAXResults`` or ``AutoRegResults`` (see
        :meth:`tsconv.ARIMA.from_statsmodels`).
    y, exog : array_like, optional
        The data; default the model's own ``endog`` / ``exog`` (when given, the results
        are re-applied to them with ``results.apply``).
    steps : int, default 24
        Forecast horizon compared.
    exog_future : array_like, optional
        Future regressors, needed to compare forecasts of a model with exog.

    Returns
    -------
    VerificationReport
        ``.ok``, a printable table and ``.to_frame()``.

    Notes
    -----
    Two references. (1) The results as they are. A stationary state-space model and
    ``use_exact_diffuse=True`` start exactly, so the tight tolerance holds
    (``1e-9 sd(y)``; standard errors ``1e-9`` relative); statsmodels' default
    approximate diffuse start (variance 1e6) for integrated models differs during the
    start-up, so one-step predictions are compared after ``burn_in`` to ``1e-8 sd(y)``
    and forecasts to ``1e-4 sd(y)`` (standard errors ``1e-4`` relative). ``AutoReg``
    is conditional least squares: compared with ``start='conditional'`` to ``1e-9``.
    A SARIMAX fit whose Kalman filter froze its covariances at statsmodels'
    steady-state threshold (1e-19, absolute; for a small ``sigma2`` that moves its
    fitted values by ~1e-7 sd(y)) is compared as filtered without the threshold, the
    same model, start and parameters, when that is the same fit (log-likelihood to
    ``1e-6`` relative).
    (2) The same parameters under ``SARIMAX(..., use_exact_diffuse=True, tolerance=0)``
    (``tolerance=0`` keeps statsmodels' Kalman filter from freezing its covariance at an
    absolute convergence threshold of 1e-19, which for small ``sigma2`` shifts the
    variances by ~1e-9 relative): every one-step prediction (the diffuse first
    ``d + s D`` included), every residual and prediction variance from observation
    ``d + s D`` on (before, they are infinite), every forecast mean within ``1e-9 sd(y)``
    and standard error within ``1e-9`` relative.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from statsmodels.tsa.statespace.sarimax import SARIMAX
    >>> from tsconv.verify import against_statsmodels
    >>> y = np.sin(np.arange(60) / 3.0) + np.arange(60) / 30.0
    >>> res = SARIMAX(y, order=(1, 1, 1), use_exact_diffuse=True).filter([0.5, 0.3, 1.0])
    >>> against_statsmodels(res).ok
    True
    """
    from statsmodels.tsa.ar_model import AutoRegResults

    model = ARIMA.from_statsmodels(results)
    y0, ex0, kind = _model_data(results)
    inner = getattr(results, "_results", results)
    if y is not None:
        yv = np.asarray(y, dtype=float).ravel()
        exv = None if exog is None else np.asarray(exog, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inner = inner.apply(yv, exog=exv) if kind != "AutoReg" else inner.model.__class__(yv, lags=inner.model.ar_lags, trend=inner.model.trend).fit()
    else:
        yv, exv = y0, ex0
    sd = float(np.std(yv))
    dd = model.n_conditioning
    n = yv.size
    title = f"{kind} {model!r}"
    rep = VerificationReport(title)
    efut = None if exog_future is None else np.asarray(exog_future, dtype=float)
    can_forecast = model.exog_params.size == 0 or efut is not None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # statsmodels' stationary start (its Lyapunov solve and the first Kalman steps) is
        # accurate to the rounding of the stationary variance, which grows as an AR root
        # nears 1: relative to sigma2 it is sum psi_j^2 of the stationary part (1 for
        # white noise; 1389 for an AR(2) lag-2 coefficient of 0.99964, heart rates, where
        # statsmodels' first predictions were 9e-8 sd(y) from the closed form and tsconv's
        # 0). The exact tolerance is scaled by it, when above 1.
        stationary = model.is_stationary
        tol2 = TOL_EXACT * _variance_ratio(model) if stationary else TOL_EXACT
        # (1) the results as they are
        if isinstance(inner, AutoRegResults):
            p0 = inner.model._hold_back
            ours = model.predict(yv, start="conditional")
            rep._add("one-step prediction", "AutoReg fit", ours[p0:], np.asarray(inner.fittedvalues)[-(n - p0):], sd, TOL_EXACT)
            if can_forecast:
                fc = model.forecast(yv, steps, start="conditional")
                pr = inner.get_prediction(start=n, end=n + steps - 1)
                rep._add("forecast mean", "AutoReg fit", fc.mean, pr.predicted_mean, sd, TOL_EXACT)
                rep._add("forecast se", "AutoReg fit", fc.se, np.sqrt(np.asarray(pr.var_pred_mean)), np.sqrt(np.asarray(pr.var_pred_mean)), TOL_EXACT)
        else:
            # tsconv starts as statsmodels does by default with enforce_stationarity: the
            # d + sD differencing states diffuse, the ARMA states from their stationary
            # distribution. Without enforce_stationarity statsmodels starts the ARMA states
            # diffuse (approximately, or exactly with use_exact_diffuse): another start,
            # whose effect decays like the pi weights, slowly for MA roots near 1.
            starts = _state_starts(inner.model)
            # a non-stationary AR part (enforce_stationarity=False) has no stationary start:
            # ours is then the conditional one, statsmodels' a diffuse one, the same after
            # the first p observations for the AR part and after burn_in for the MA part
            start1: Start = "exact" if stationary else "conditional"
            if kind == "SARIMAX" and getattr(inner.model.ssm, "tolerance", 0) > 0:
                # The results' Kalman filter froze its covariances at statsmodels'
                # steady-state threshold (1e-19, absolute): with a small sigma2 that moves
                # its fitted values (5.9e-8 sd(y) after burn-in: log consumption, (0,1,1)),
                # the threshold's doing, not the model's. The same model, start and
                # parameters filtered without it are the reference, when they are that fit
                # (its log-likelihood to 1e-6 relative; the freeze moves it by ~4e-9).
                again = inner.apply(yv, exog=exv, copy_initialization=True, tolerance=0)
                if abs(float(again.llf) - float(inner.llf)) <= 1e-6 * max(1.0, abs(float(inner.llf))):
                    inner = again
            arma_stationary = all(t == "stationary" for t in starts[dd:])
            exact_start = stationary and arma_stationary and all(t == "diffuse" for t in starts[:dd])
            ours_p = model.predict(yv, exog=exv, start=start1)
            theirs_p = np.asarray(inner.fittedvalues, dtype=float)
            if exact_start:
                first = 0 if getattr(inner.model, "use_exact_diffuse", False) or dd == 0 else dd
                tol_p, tol_f, tol_s, ref = tol2, tol2, tol2, "fit (exact start)"
            else:
                p_red = 0 if stationary else model._ar_red.size - 1
                first = min(n, dd + p_red + model.burn_in(BURN_IN_TOL)) if model.is_invertible else n
                tol_p, tol_f, tol_s = TOL_APPROX_PREDICT, TOL_APPROX_FORECAST, TOL_APPROX_SE
                ref = ("fit (approx. diffuse)" if "approximate_diffuse" in starts
                       else "fit (diffuse ARMA)" if "diffuse" in starts[dd:] else "fit (given start)")
            label = "one-step prediction" if first <= dd else "prediction > burn_in"
            rep._add(label, ref, ours_p[first:], theirs_p[first:], sd, tol_p)
            if can_forecast and not arma_stationary and first >= n:
                rep._add("forecast mean", ref, [], [], sd, tol_f)
                rep._add("forecast se", ref, [], [], sd, tol_s)
                rep.notes.append(
                    "statsmodels started this fit's ARMA states diffuse (as it does with "
                    "enforce_stationarity=False), not from their stationary distribution, and that start still moves its predictions "
                    "at the end of the data (the pi weights stay above the burn-in tolerance): its "
                    "forecasts are another estimator's, not compared; the exact diffuse rows compare "
                    "the same parameters")
            elif can_forecast:
                fc = model.forecast(yv, steps, exog=exv, exog_future=efut, start=start1)
                # statsmodels' ARIMA class extends its own trend columns, from the time
                # nobs + SARIMAX's trend_offset (always 1 there), not its own offset
                fr = inner.get_forecast(steps, exog=efut)
                spec_offset = getattr(getattr(inner.model, "_spec_arima", None), "trend_offset", None)
                if kind == "ARIMA" and max(model._powers, default=0) > 0 and spec_offset not in (None, inner.model.trend_offset):
                    plain = np.asarray(fr.predicted_mean, dtype=float)
                    fr = inner.get_forecast(steps, exog=efut, extend_kwargs={"trend_offset": spec_offset + n})
                    moved = float(np.max(np.abs(plain - np.asarray(fr.predicted_mean, dtype=float))))
                    if moved > 0:
                        rep.notes.append(
                            f"statsmodels' ARIMA forecasts this fit's time trend from time {n + 1}, ignoring "
                            f"its trend_offset={spec_offset} (its fitted values use it); compared with "
                            f"get_forecast(..., extend_kwargs={{'trend_offset': {spec_offset + n}}}), the fit's "
                            f"own trend; its forecast() is {moved:.4g} away from that")
                rep._add("forecast mean", ref, fc.mean, fr.predicted_mean, sd, tol_f)
                rep._add("forecast se", ref, fc.se, fr.se_mean, np.asarray(fr.se_mean), tol_s)

        # (2) same parameters, exact diffuse start
        ref = "exact diffuse"
        if not stationary:  # no stationary distribution: nothing to start from
            for q in ("one-step prediction", "residual", "prediction variance", "forecast mean", "forecast se"):
                rep._add(q, ref, [], [], sd, TOL_EXACT)
            rep.notes.append(
                f"the AR part is not stationary (its polynomial's roots have modulus {np.round(np.abs(model.roots()['ar']), 6).tolist()}; "
                "stationary needs all above 1): "
                "it has no exact (stationary) start, so only the fit's own start is compared")
            return rep
        ex_res, trend_cols = _exact_statsmodels(model, yv, exv)
        ours_p = model.predict(yv, exog=exv)
        ours_r = model.residuals(yv, exog=exv)
        rep._add("one-step prediction", ref, ours_p, np.asarray(ex_res.fittedvalues), sd, tol2)
        rep._add("residual", ref, ours_r[dd:], np.asarray(ex_res.resid)[dd:], sd, tol2)
        pvar = model.prediction_variance(n)[dd:]
        svar = np.asarray(ex_res.forecasts_error_cov[0, 0])[dd:]
        rep._add("prediction variance", ref, pvar, svar, svar, tol2)
        if can_forecast:
            fc = model.forecast(yv, steps, exog=exv, exog_future=efut)
            f_ex = efut
            if model.trend_form == "mean" and model._powers:
                tc = trend_cols(n, steps)
                f_ex = tc if efut is None else np.column_stack([tc, efut])
            fr = ex_res.get_forecast(steps, exog=f_ex)
            rep._add("forecast mean", ref, fc.mean, fr.predicted_mean, sd, tol2)
            rep._add("forecast se", ref, fc.se, fr.se_mean, np.asarray(fr.se_mean), tol2)
    return rep


def _suite() -> list[tuple[str, Any]]:
    """(name, thunk returning a statsmodels results object) for the built-in suite."""
    from statsmodels.tsa.ar_model import AutoReg
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from statsmodels.tsa.statespace.tests.results import results_sarimax as rs

    from tsconv.datasets import load

    def fit(model: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit()

    sun = load("sunspots").to_numpy()
    nile = load("nile").to_numpy()
    lgdp = np.log(load("realgdp").to_numpy())
    co2 = load("co2").to_numpy()
    lair = np.log(load("airline").to_numpy())
    wpi = load("wpi1").to_numpy()
    st, se = rs.wpi1_stationary, rs.wpi1_seasonal
    # Stata reports the mean of the differenced series; SARIMAX wants the intercept
    wpi_params = [(1 - st["params_ar"][0]) * st["params_mean"][0], *st["params_ar"], *st["params_ma"], *st["params_variance"]]
    lwpi_params = [(1 - se["params_ar"][0]) * se["params_mean"][0], *se["params_ar"], *se["params_ma"], *se["params_variance"]]
    return [
        ("sunspots ARIMA(2,0,1)+c", lambda: fit(SMARIMA(sun, order=(2, 0, 1), trend="c"))),
        ("sunspots AR(3)+c", lambda: fit(SMARIMA(sun, order=(3, 0, 0), trend="c"))),
        ("sunspots AutoReg(3)", lambda: AutoReg(sun, lags=3, trend="c").fit()),
        ("Nile ARIMA(1,1,1)", lambda: fit(SMARIMA(nile, order=(1, 1, 1)))),
        ("log real GDP ARIMA(1,1,1)+drift", lambda: fit(SMARIMA(lgdp, order=(1, 1, 1), trend="t"))),
        ("co2 SARIMA(1,1,1)(0,1,1,12)", lambda: fit(SMARIMA(co2, order=(1, 1, 1), seasonal_order=(0, 1, 1, 12)))),
        ("airline SARIMA(0,1,1)(0,1,1,12)", lambda: fit(SMARIMA(lair, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)))),
        ("wpi1 ARIMA(1,1,1)+c (Stata)", lambda: SARIMAX(wpi, order=(1, 1, 1), trend="c").filter(wpi_params)),
        ("ln wpi1 ARIMA(1,1,[1,4])+c (Stata)", lambda: SARIMAX(np.log(wpi), order=(1, 1, [1, 4]), trend="c").filter(lwpi_params)),
    ]


def check_suite(verbose: bool = True) -> bool:
    """Run :func:`against_statsmodels` on the built-in suite; True when everything passes.

    The suite: sunspots ARIMA(2,0,1)+c, AR(3)+c (ARIMA and AutoReg); Nile ARIMA(1,1,1);
    log real GDP ARIMA(1,1,1) with drift; co2 SARIMA(1,1,1)(0,1,1,12); the airline model
    SARIMA(0,1,1)(0,1,1,12) on log passengers; Stata's wpi1 ARIMA(1,1,1)+c and ln-wpi1
    ARIMA(1,1,[1,4])+c with Stata's published estimates (statsmodels' SARIMAX tests).
    A case that raises counts as a failure.
    """
    all_ok = True
    for name, thunk in _suite():
        t0 = time.perf_counter()
        try:
            rep = against_statsmodels(thunk())
            ok = rep.ok
            text = str(rep)
        except Exception as exc:  # a crash is a failure, reported
            ok, text = False, f"{name}: ERROR {type(exc).__name__}: {exc}"
        all_ok &= ok
        if verbose:
            print(f"== {name} ({time.perf_counter() - t0:.1f} s)")
            print(text)
    if verbose:
        print("ALL OK" if all_ok else "SOME CHECKS FAILED")
    return all_ok
