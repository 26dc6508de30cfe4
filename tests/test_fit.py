"""Ratio-model fitting and reference classes (calibration.fit, calibration.reference).

Statistical tests use fixed seeds and compare estimates with the *true* parameters of the
simulated data, within a stated number of standard errors. Standard errors come from the
observed Fisher information at the true parameters (a numerical Hessian of the scipy
log-likelihood), or from the closed forms of the normal model on the logs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from calibration.fit import FAMILIES, Candidate, RatioModel, fit_ratio_model
from calibration.reference import ClassModels, class_table, fit_classes
from simulator.errors import PmosimError

Z = 4.0  # tolerance in standard errors

SCIPY = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "weibull": stats.weibull_min,
    "loglogistic": stats.fisk,
}
SHAPE = {"lognormal": "s", "gamma": "a", "weibull": "c", "loglogistic": "c"}


def _observed_se(family: str, shape: float, scale: float, x: np.ndarray) -> np.ndarray:
    """Asymptotic SEs of (shape, scale): inverse of the observed Fisher information, the
    Hessian of the negative log-likelihood at the true parameters (central differences)."""
    dist = SCIPY[family]
    theta = np.array([shape, scale])

    def nll(t: np.ndarray) -> float:
        return -float(np.sum(dist.logpdf(x, t[0], scale=t[1])))

    h = 1e-4 * theta
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (
                nll(theta + ei + ej)
                - nll(theta + ei - ej)
                - nll(theta - ei + ej)
                + nll(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(hess)))


# -- maximum likelihood ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "shape", "scale"),
    [
        ("lognormal", 0.6, 1.3),
        ("gamma", 2.5, 0.5),
        ("weibull", 1.8, 1.4),
        ("loglogistic", 3.0, 1.2),
    ],
)
def test_mle_recovers_parameters(family: str, shape: float, scale: float) -> None:
    x = SCIPY[family](shape, scale=scale).rvs(2000, random_state=np.random.default_rng(11))
    model = fit_ratio_model(x, families=(family,))
    se = _observed_se(family, shape, scale, x)
    assert model.family == family
    assert abs(model.params[SHAPE[family]] - shape) < Z * se[0]
    assert abs(model.params["scale"] - scale) < Z * se[1]
    # the maximum: the log-likelihood is no larger at the true parameters
    true_ll = float(np.sum(SCIPY[family].logpdf(x, shape, scale=scale)))
    assert model.candidates[0].loglik >= true_ll


@pytest.mark.parametrize(
    ("family", "shape", "scale"),
    [
        ("lognormal", 0.8, 1.2),
        ("weibull", 3.0, 1.1),
        ("gamma", 0.7, 2.0),
        ("loglogistic", 4.0, 1.1),
    ],
)
@pytest.mark.parametrize("select", ["bic", "aic"])
def test_selection_picks_true_family(family: str, shape: float, scale: float, select: str) -> None:
    x = SCIPY[family](shape, scale=scale).rvs(3000, random_state=np.random.default_rng(5))
    model = fit_ratio_model(x, select=select)
    assert model.family == family
    assert model.candidates[0].family == family
    assert sorted(c.family for c in model.candidates) == sorted(FAMILIES)
    crit = [getattr(c, select) for c in model.candidates]
    assert crit == sorted(crit)


def test_information_criteria_are_honest() -> None:
    """logL is the scipy log-likelihood of every ratio, k = 2 (+1 for the point mass)."""
    rng = np.random.default_rng(3)
    cont = stats.gamma(2.0, scale=0.6).rvs(400, random_state=rng)
    x = np.concatenate([cont, np.ones(100)])
    model = fit_ratio_model(x)
    n, p = 500, 0.2
    for c in model.candidates:
        ll = (
            100 * math.log(p)
            + 400 * math.log(1 - p)
            + float(
                np.sum(
                    SCIPY[c.family].logpdf(cont, c.params[SHAPE[c.family]], scale=c.params["scale"])
                )
            )
        )
        assert c.loglik == pytest.approx(ll, rel=1e-10)
        assert c.aic == pytest.approx(2 * 3 - 2 * ll, rel=1e-10)
        assert c.bic == pytest.approx(3 * math.log(n) - 2 * ll, rel=1e-10)


def test_goodness_of_fit_statistics() -> None:
    """KS against scipy's kstest; A² against scipy.stats.anderson, which fits the logistic
    (loglogistic on the logs) and the left Gumbel (Weibull on the logs) by ML as well."""
    x = stats.fisk(3.0, scale=1.2).rvs(500, random_state=np.random.default_rng(8))
    cands = {c.family: c for c in fit_ratio_model(x).candidates}
    ll = cands["loglogistic"]
    ks = stats.kstest(x, stats.fisk(ll.params["c"], scale=ll.params["scale"]).cdf)
    assert ll.ks == pytest.approx(ks.statistic)
    assert ll.ks_pvalue == pytest.approx(ks.pvalue)
    logs = np.log(x)
    ad_logistic = stats.anderson(logs, "logistic", method="interpolate").statistic
    ad_gumbel = stats.anderson(logs, "gumbel_l", method="interpolate").statistic
    assert ll.ad == pytest.approx(ad_logistic, rel=1e-3)
    assert cands["weibull"].ad == pytest.approx(ad_gumbel, rel=1e-3)
    assert ll.ad < 2.5 < cands["weibull"].ad  # 2.49: 5 % point of A² for a true model


# -- heaping ------------------------------------------------------------------------------


def _heaped(
    n: int = 2000, p: float = 0.3, s: float = 0.5, scale: float = 1.2, seed: int = 21
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = stats.lognorm(s, scale=scale).rvs(n, random_state=rng)
    return np.where(rng.random(n) < p, 1.0, x)


def test_heaping_recovers_point_mass_and_continuous_part() -> None:
    x = _heaped()
    model = fit_ratio_model(x)
    n, n_cont = x.size, int(np.sum(x != 1.0))
    assert abs(model.p_exact - 0.3) < Z * math.sqrt(0.3 * 0.7 / n)
    assert model.family == "lognormal"
    # normal model on the logs: se(mu) = s / sqrt(n), se(s) = s / sqrt(2 n)
    assert abs(math.log(model.params["scale"]) - math.log(1.2)) < Z * 0.5 / math.sqrt(n_cont)
    assert abs(model.params["s"] - 0.5) < Z * 0.5 / math.sqrt(2 * n_cont)


def test_heaped_ppf_inverts_cdf_exactly() -> None:
    model = fit_ratio_model(_heaped())
    p, s, scale = model.p_exact, model.params["s"], model.params["scale"]
    lo = (1 - p) * stats.lognorm.cdf(1.0, s, scale=scale)  # the step: (lo, lo + p]
    step = np.linspace(lo + 1e-9, lo + p, 50)
    assert np.all(model.ppf(step) == 1.0)
    assert np.all(model.ppf(np.linspace(0.001, lo - 1e-9, 50)) < 1.0)
    assert np.all(model.ppf(np.linspace(lo + p + 1e-9, 0.999, 50)) > 1.0)
    u = np.linspace(0.0005, 0.9995, 2001)
    q = model.ppf(u)
    assert np.all(np.diff(q) >= 0)
    c = model.cdf(q)
    assert np.all(c >= u - 1e-12)
    outside = (u < lo - 1e-9) | (u > lo + p + 1e-9)
    np.testing.assert_allclose(c[outside], u[outside], rtol=0, atol=1e-10)
    assert model.cdf(1.0) == pytest.approx(lo + p, abs=1e-12)
    assert model.cdf(1.0 - 1e-12) == pytest.approx(lo, abs=1e-9)
    r = np.array([0.3, 0.8, 1.0, 1.5, 4.0])
    np.testing.assert_allclose(model.ppf(model.cdf(r)), r, rtol=1e-9)
    assert model.p_overrun() == pytest.approx(1 - lo - p, abs=1e-12)
    mean = p + (1 - p) * scale * math.exp(s**2 / 2)
    assert model.mean() == pytest.approx(mean, rel=1e-12)
    assert np.all(np.diff(model.quantiles([0.1, 0.5, 0.8, 0.9])) >= 0)


def test_sample_is_seeded_and_heaped() -> None:
    model = fit_ratio_model(_heaped())
    a = model.sample(20000, rng=7)
    np.testing.assert_array_equal(a, model.sample(20000, rng=np.random.default_rng(7)))
    p = model.p_exact
    assert abs(np.mean(a == 1.0) - p) < Z * math.sqrt(p * (1 - p) / a.size)
    assert abs(np.mean(a > 1.0) - model.p_overrun()) < Z * math.sqrt(0.25 / a.size)


# -- size dependence ----------------------------------------------------------------------


def _sized(n: int, slope: float, seed: int, sigma: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    est = np.exp(rng.normal(math.log(5.0), 1.0, n))
    ratio = (est / 5.0) ** slope * stats.lognorm(sigma, scale=1.1).rvs(n, random_state=rng)
    return ratio, est


def test_size_slope_recovered() -> None:
    ratio, est = _sized(2000, 0.3, seed=4)
    model = fit_ratio_model(ratio, est)
    log_e = np.log(est)
    sxx = float(np.sum((log_e - log_e.mean()) ** 2))
    assert abs(model.slope - 0.3) < Z * 0.5 / math.sqrt(sxx)  # OLS: se = sigma / sqrt(Sxx)
    assert model.ref_estimate == pytest.approx(math.exp(log_e.mean()))
    assert model.family == "lognormal"
    assert abs(model.params["s"] - 0.5) < Z * 0.5 / math.sqrt(2 * 2000)
    # the median ratio at an estimate of 20: 1.1 * (20 / 5) ** 0.3
    x0 = math.log(20.0)
    se = 0.5 * math.sqrt(1 / 2000 + (x0 - log_e.mean()) ** 2 / sxx)
    assert abs(math.log(float(model.ppf(0.5, 20.0))) - math.log(1.1 * 4**0.3)) < Z * se
    grid = model.ppf(np.array([[0.1, 0.5, 0.9]]), np.array([[2.0], [20.0]]))
    assert grid.shape == (2, 3)
    assert np.all(grid[1] > grid[0])  # positive slope: bigger estimates overrun more


@pytest.mark.parametrize("n", [60, 300])
def test_no_size_dependence_keeps_slope_zero(n: int) -> None:
    """With n = 60 the materiality bar is about one standard error, so the p < 0.01 test
    decides (0.4 false positives in 40 expected; 3 or more has probability 0.001)."""
    kept = sum(fit_ratio_model(*_sized(n, 0.0, seed=100 + k)).slope != 0 for k in range(40))
    assert kept <= 2


def test_significant_but_immaterial_slope_dropped() -> None:
    ratio, est = _sized(20000, 0.02, seed=9)
    assert stats.linregress(np.log(est), np.log(ratio)).pvalue < 0.01  # significant...
    assert fit_ratio_model(ratio, est).slope == 0.0  # ...but moves P25->P75 by ~3 %
    ratio, est = _sized(20000, 0.1, seed=9)  # moves it by ~14 %
    assert fit_ratio_model(ratio, est).slope == pytest.approx(0.1, abs=Z * 0.5 / 141)


def test_size_term_leaves_heap_at_one() -> None:
    ratio, est = _sized(2000, 0.3, seed=12)
    ratio[::4] = 1.0
    model = fit_ratio_model(ratio, est)
    assert model.slope != 0
    assert model.p_exact == pytest.approx(0.25)
    for e in (1.0, 5.0, 50.0):
        lo = float(model.cdf(1.0 - 1e-12, e))
        assert model.ppf(lo + 0.2, e) == 1.0
        assert model.cdf(1.0, e) - lo == pytest.approx(0.25, abs=1e-9)


# -- empirical fallback -------------------------------------------------------------------


def _bimodal(n: int = 1000, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = stats.lognorm(0.1, scale=0.7).rvs(n // 2, random_state=rng)
    b = stats.lognorm(0.1, scale=2.0).rvs(n - n // 2, random_state=rng)
    return np.concatenate([a, b])


def test_empirical_fallback_when_no_family_fits() -> None:
    x = _bimodal()
    model = fit_ratio_model(x)
    assert model.family == "empirical"
    assert model.params == {}
    assert all(c.ks_pvalue < 0.01 for c in model.candidates)
    q = np.linspace(0, 1, 201)
    # the sample's own inverse CDF, to the rounding of the (here identity) size and spread
    # transforms (1 ulp with numpy 2.4); a neighbouring order statistic is far further off
    expected = np.quantile(x, q, method="inverted_cdf")
    assert np.diff(np.unique(x)).min() / x.max() > 1e-9
    np.testing.assert_allclose(model.ppf(q), expected, rtol=1e-14, atol=0)
    assert model.mean() == pytest.approx(float(np.mean(x)))
    assert model.p_overrun() == pytest.approx(float(np.mean(x > 1)))


def test_empirical_needs_enough_data_and_a_misfit() -> None:
    assert fit_ratio_model(_bimodal(), empirical_min=2000).family != "empirical"
    x = stats.lognorm(0.5).rvs(1000, random_state=np.random.default_rng(1))
    assert fit_ratio_model(x).family == "lognormal"


# -- reference classes and pooling --------------------------------------------------------


def _tasks(seed: int = 17) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for name, n, mu, n_ones in [
        ("bulk", 1000, 0.2, 200),
        ("big", 100, -0.3, 0),
        ("mid", 12, 0.8, 3),
        ("tiny", 3, 1.5, 0),
    ]:
        ratio = np.exp(rng.normal(mu, 0.5, n))
        ratio[:n_ones] = 1.0
        est = np.exp(rng.normal(1.5, 0.8, n))
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"{name}{i}" for i in range(n)],
                    "estimate": est,
                    "actual": est * ratio,
                    "kind": name,
                    "team": np.where(np.arange(n) % 2, "a", "b"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_pooling_rule() -> None:
    tasks = _tasks()
    models = fit_classes(tasks, ["kind"], families=("lognormal",))
    ratio = (tasks["actual"] / tasks["estimate"]).to_numpy()
    exact = ratio == 1.0
    assert models.overall.slope == 0.0
    # lognormal MLE on the non-1 ratios of every task: mean and ddof-0 std of the logs
    logs = np.log(ratio[~exact])
    m_all, s_all = float(np.mean(logs)), float(np.std(logs))
    p_all = float(np.mean(exact))
    mid_r = ratio[(tasks["kind"] == "mid").to_numpy()]
    m_mid = float(np.mean(np.log(mid_r[mid_r != 1.0])))
    w = 12 / 32

    mid = models.model_for("mid")
    assert mid.source == "pooled with (all) (n=12, weight 0.38)"
    assert mid.n == 12
    assert mid.family == "lognormal"
    assert mid.params["s"] == pytest.approx(s_all, rel=1e-12)
    loc = math.log(mid.params["scale"])
    assert loc == pytest.approx(w * m_mid + (1 - w) * m_all, abs=1e-12)
    assert m_all < loc < m_mid
    assert mid.p_exact == pytest.approx(w * 3 / 12 + (1 - w) * p_all, abs=1e-12)

    tiny, overall = models.model_for(("tiny",)), models.overall
    assert (tiny.family, tiny.params, tiny.p_exact, tiny.slope) == (
        overall.family,
        overall.params,
        overall.p_exact,
        overall.slope,
    )
    assert tiny.source == "(all) unchanged (n=3 < min_class=5)"
    assert tiny.n == 3

    big = models.model_for("big")
    assert big.source == "own"
    assert big.n == 100
    assert [c.family for c in big.candidates] == ["lognormal"]
    assert abs(math.log(big.params["scale"]) + 0.3) < Z * 0.5 / math.sqrt(100)
    assert models.model_for("bulk").source == "own"

    with pytest.raises(KeyError, match=r"unknown class 'nope'.*big, bulk, mid, tiny"):
        models.model_for("nope")


def test_classes_over_several_columns_and_table() -> None:
    models = fit_classes(_tasks(), ["kind", "team"], min_own=40)
    assert models.by == ("kind", "team")
    assert set(models.classes) == {
        (k, t) for k in ("bulk", "big", "mid", "tiny") for t in ("a", "b")
    }
    assert models.model_for(("big", "a")).source == "own"  # 50 tasks
    assert models.model_for(("mid", "a")).source.startswith("pooled")  # 6 tasks
    assert "unchanged" in models.model_for(("tiny", "b")).source  # 2 tasks
    with pytest.raises(KeyError, match="big / a"):
        models.model_for(("big", "c"))
    table = class_table(models)
    assert list(table.columns) == [
        "class",
        "n",
        "bias",
        "p10",
        "p50",
        "p90",
        "p_exact",
        "size_slope",
        "heap_slope",
        "spread_slope",
        "family",
        "ks_pvalue",
        "source",
    ]
    assert len(table) == 1 + 8
    assert table["class"].iloc[0] == "(all)"
    assert table["n"].iloc[0] == 1115
    assert table["n"].iloc[1:].sum() == 1115
    assert np.all((table["p10"] <= table["p50"]) & (table["p50"] <= table["p90"]))


@pytest.mark.parametrize(
    ("family", "shape"),
    [("lognormal", 0.6), ("gamma", 0.7), ("weibull", 1.8), ("loglogistic", 3.0)],
)
def test_log_location_is_mean_log_ratio(family: str, shape: float) -> None:
    """The pooling location E[log R], against scipy's numerical integration."""
    model = RatioModel(family, {SHAPE[family]: shape, "scale": 1.3}, 0.0, 0.0, 1.0, 0)
    expected = SCIPY[family](shape, scale=1.3).expect(np.log)
    assert model.log_location == pytest.approx(expected, abs=1e-7)
    assert model.shifted(0.25).log_location == pytest.approx(expected + 0.25, abs=1e-7)


def test_mean_without_a_finite_value_is_inf() -> None:
    heavy = RatioModel("loglogistic", {"c": 0.9, "scale": 1.0}, 0.2, 0.0, 1.0, 10)
    assert heavy.mean() == math.inf
    light = RatioModel("loglogistic", {"c": 4.0, "scale": 1.0}, 0.2, 0.0, 1.0, 10)
    assert light.mean() == pytest.approx(0.2 + 0.8 * (math.pi / 4) / math.sin(math.pi / 4))


def test_no_class_columns_gives_overall_only() -> None:
    models = fit_classes(_tasks(), [])
    assert models.classes == {}
    assert models.model_for(()) is models.overall


# -- plain data -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["heaped-sized", "empirical"])
def test_round_trip(kind: str) -> None:
    if kind == "empirical":
        model = fit_ratio_model(_bimodal())
    else:
        ratio, est = _sized(500, 0.4, seed=6)
        ratio[::3] = 1.0
        model = fit_ratio_model(ratio, est)
        assert model.slope != 0
        assert model.p_exact > 0
    text = yaml.safe_dump(model.to_dict())
    again = RatioModel.from_dict(yaml.safe_load(text))
    assert again == model
    assert again.candidates == model.candidates


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_exact": 1.0}, r"p_exact=1.0 must be in \[0, 1\)"),
        ({"params": {"s": -1.0, "scale": 1.0}}, "lognormal parameter s=-1.0 must be"),
        ({"params": {"c": 1.0, "scale": 1.0}}, "takes parameters"),
        ({"family": "beta"}, "family 'beta' must be one of"),
        ({"ref_estimate": 0.0}, "ref_estimate=0.0 must be"),
        ({"values": (1.0, 2.0)}, "takes no values"),
    ],
    ids=["p-exact", "negative-shape", "wrong-names", "family", "ref", "values"],
)
def test_ratio_model_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "family": "lognormal",
        "params": {"s": 0.5, "scale": 1.0},
        "p_exact": 0.1,
        "slope": 0.0,
        "ref_estimate": 1.0,
        "n": 10,
    }
    with pytest.raises(ValueError, match=message):
        RatioModel(**{**base, **kwargs})  # type: ignore[arg-type]


def test_from_dict_rejects_unknown_keys() -> None:
    d = fit_ratio_model(_heaped(300)).to_dict()
    with pytest.raises(ValueError, match="unknown ratio-model keys"):
        RatioModel.from_dict({**d, "colour": "red"})


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"ratio\[1\]=-2.0 must be finite and > 0"):
        fit_ratio_model([1.5, -2.0, 3.0])
    with pytest.raises(PmosimError, match="at least 3"):
        fit_ratio_model([1.0, 1.0, 1.0, 1.5, 2.0])
    with pytest.raises(ValueError, match="select"):
        fit_ratio_model([1.5, 2.0, 3.0], select="hqic")
    with pytest.raises(PmosimError, match="no column"):
        fit_classes(pd.DataFrame({"estimate": [1.0], "actual": [2.0]}), ["kind"])


def test_candidate_and_class_models_are_value_objects() -> None:
    with pytest.raises(ValueError, match="candidate family"):
        Candidate("normal", {}, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    overall = fit_ratio_model(_heaped(300))
    with pytest.raises(ValueError, match="must be a tuple of 1"):
        ClassModels(("kind",), overall, {("a", "b"): overall}, 30, 5)


def _heaped_by_size(
    n: int, a: float, b: float, spread: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates lognormal around 5; logit P(exact) = a + b log(e/5); otherwise a lognormal
    ratio with median 1.1 and log-sd 0.5 * (e/5) ** spread."""
    rng = np.random.default_rng(seed)
    est = np.exp(rng.normal(math.log(5.0), 1.0, n))
    rel = est / 5.0
    ratio = 1.1 * np.exp(0.5 * rel**spread * rng.standard_normal(n))
    exact = rng.random(n) < 1 / (1 + np.exp(-(a + b * np.log(rel))))
    ratio[exact] = 1.0
    return ratio, est


def test_heaping_slope_recovered_by_maximum_likelihood() -> None:
    """The logistic fit of P(exact) matches the true intercept and slope within Z standard
    errors from the Fisher information of the logistic model at the truth."""
    n, a, b = 4000, -0.5, -0.8
    ratio, est = _heaped_by_size(n, a, b, 0.0, seed=21)
    model = fit_ratio_model(ratio, est)
    assert model.exact_slope != 0
    x = np.log(est / model.ref_estimate)
    shift = math.log(model.ref_estimate / 5.0)  # truth re-expressed at ref_estimate
    a_ref = a + b * shift
    p = 1 / (1 + np.exp(-(a_ref + b * x)))
    design = np.column_stack([np.ones(n), x])
    cov = np.linalg.inv(design.T @ (design * (p * (1 - p))[:, None]))
    assert abs(math.log(model.p_exact / (1 - model.p_exact)) - a_ref) < Z * math.sqrt(cov[0, 0])
    assert abs(model.exact_slope - b) < Z * math.sqrt(cov[1, 1])
    # P(exact) at a given size is what the cdf puts at 1
    for e in (0.5, 5.0, 50.0):
        jump = float(model.cdf(1.0, e) - model.cdf(1.0 - 1e-12, e))
        assert jump == pytest.approx(float(model.exact_share(e)), abs=1e-9)
        assert jump == pytest.approx(1 / (1 + math.exp(-(a + b * math.log(e / 5.0)))), abs=0.05)


def test_heaping_without_size_dependence_keeps_slope_zero() -> None:
    kept = sum(
        fit_ratio_model(*_heaped_by_size(300, -0.5, 0.0, 0.0, seed=200 + k)).exact_slope != 0
        for k in range(40)
    )
    assert kept <= 2  # 0.4 false positives expected at p < 0.01


def test_spread_slope_recovered_and_quantiles_follow_it() -> None:
    """log|residual| = log(sigma(e)) + log|eps|: its regression slope on log(e) is the
    spread slope, with the OLS standard error; the fitted quantiles of log(ratio) widen as
    0.5 * (e/5) ** 0.25 * z_u around log 1.1."""
    n = 6000
    ratio, est = _heaped_by_size(n, -50.0, 0.0, 0.25, seed=31)  # no exact 1s
    model = fit_ratio_model(ratio, est)
    log_e = np.log(est)
    sxx = float(np.sum((log_e - log_e.mean()) ** 2))
    se = (math.pi / math.sqrt(8)) / math.sqrt(sxx)  # sd of log|N(0,1)| is pi/sqrt(8)
    assert abs(model.spread_slope - 0.25) < Z * se
    assert model.slope == 0.0
    assert model.family == "lognormal"
    for e in (0.5, 5.0, 50.0):
        sigma = 0.5 * (e / 5.0) ** 0.25
        got = np.log(model.ppf(np.array([0.1, 0.9]), e))
        want = math.log(1.1) + sigma * stats.norm.ppf([0.1, 0.9])
        assert np.allclose(got, want, atol=0.06 * (1 + sigma)), (e, got, want)
        # the mean is the integral of the survival function (an independent computation)
        grid = np.linspace(0, 60, 200001)
        integral = float(np.trapezoid(1 - model.cdf(grid, e), grid))
        assert model.mean(e) == pytest.approx(integral, rel=1e-3)
        # ppf inverts cdf
        u = np.array([0.05, 0.3, 0.7, 0.95])
        assert np.allclose(model.cdf(model.ppf(u, e), e), u, atol=1e-9)


def test_new_fields_round_trip() -> None:
    ratio, est = _heaped_by_size(3000, -0.5, -0.8, 0.25, seed=41)
    model = fit_ratio_model(ratio, est)
    assert model.exact_slope != 0
    assert model.spread_slope != 0
    again = RatioModel.from_dict(yaml.safe_load(yaml.safe_dump(model.to_dict())))
    u = np.linspace(0.01, 0.99, 50)
    for e in (0.5, 5.0, 50.0):
        assert np.array_equal(again.ppf(u, e), model.ppf(u, e))


def test_pooled_class_blends_mean_heaping_share_under_a_size_slope() -> None:
    """With size-dependent heaping, a pooled class's mean P(exact) over its own estimates is
    w * (its own share) + (1 - w) * (the parent's mean P(exact) over those estimates)."""
    ratio, est = _heaped_by_size(3000, -0.5, -0.8, 0.0, seed=51)
    kind = np.where(np.arange(3000) < 2988, "big", "small")
    ratio[-12:] = [1.0] * 9 + [1.3, 0.7, 2.0]  # the small class: 9 of 12 exact
    tasks = pd.DataFrame({"estimate": est, "actual": est * ratio, "kind": kind})
    models = fit_classes(tasks, ["kind"], min_own=30, pool_strength=20.0)
    parent, small = models.overall, models.model_for("small")
    assert parent.exact_slope != 0
    assert small.exact_slope == parent.exact_slope
    e_small = est[-12:]
    w = 12 / 32
    want = w * 9 / 12 + (1 - w) * float(np.mean(parent.exact_share(e_small)))
    assert float(np.mean(small.exact_share(e_small))) == pytest.approx(want, abs=1e-9)


def test_size_terms_are_not_extrapolated_beyond_the_fitted_estimates() -> None:
    """Fitted on estimates 1 to 16 days, the model at 120 days takes the terms at 16 and
    widens the continuous part about its centre by 1 + ln(120 / 16) in log (computed here
    from scipy's lognormal, not from the model's code); inside the range nothing changes."""
    params = {"s": 0.5, "scale": 1.2}
    model = RatioModel(
        "lognormal",
        params,
        p_exact=0.2,
        slope=-0.3,
        ref_estimate=4.0,
        n=1000,
        exact_slope=-0.5,
        spread_slope=0.4,
        spread_center=1.1,
        estimate_range=(1.0, 16.0),
    )
    unbounded = RatioModel.from_dict({**model.to_dict(), "estimate_range": None})
    u = np.linspace(0.01, 0.99, 99)
    for e in (1.0, 3.0, 16.0):
        assert np.array_equal(model.ppf(u, e), unbounded.ppf(u, e))
    p_end = float(unbounded.exact_share(16.0))
    assert float(model.exact_share(120.0)) == p_end
    s_end, k_end = (16.0 / 4.0) ** -0.3, (16.0 / 4.0) ** 0.4
    widen = 1.0 + math.log(120.0 / 16.0)
    k = k_end * widen  # R = s * c * (Z / c) ** k, c = 1.1, Z lognormal(0.5, scale 1.2)
    below = (1 - p_end) * stats.lognorm.cdf(1.1 * (1 / (s_end * 1.1)) ** (1 / k), 0.5, scale=1.2)
    v = np.where(u <= below, u / (1 - p_end), (u - p_end) / (1 - p_end))
    want = s_end * 1.1 * (stats.lognorm.ppf(v, 0.5, scale=1.2) / 1.1) ** k
    want[(u > below) & (u <= below + p_end)] = 1.0  # the heap
    got = model.ppf(u, 120.0)
    assert np.allclose(got, want, rtol=1e-9)
    off_heap = got != 1.0
    assert np.allclose(model.cdf(got[off_heap], 120.0), u[off_heap], atol=1e-9)
    assert np.all(np.isfinite(model.ppf(u, 1e6)))
    # a model without size terms has nothing to extrapolate: the same at every size
    flat = RatioModel(
        "lognormal",
        params,
        p_exact=0.2,
        slope=0.0,
        ref_estimate=1.0,
        n=10,
        estimate_range=(1.0, 16.0),
    )
    assert np.array_equal(flat.ppf(u, 120.0), flat.ppf(u, 3.0))
