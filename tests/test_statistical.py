"""Statistical tests: simulated results against theory within a stated number of standard errors.

Every expectation here comes from a formula or from scipy's own distributions, never from the
package's output: series sums (means and variances add), parallel maxima (CDFs multiply),
capacity-1 pools (durations add), risks (``p`` times the impact), every duration family
(moments and a Kolmogorov-Smirnov test), Gaussian-copula correlation, effort, and the
Monte Carlo errors the results report.

Tolerances: a mean is checked to ``Z`` standard errors ``sd/sqrt(n)`` with the theoretical
``sd`` where it is known; a probability to ``Z * sqrt(p(1-p)/n)``; a KS test must not reject at
``KS_ALPHA``. Seeds are fixed, so every test is deterministic; with ``Z = 4`` a correct
implementation fails a given check with probability below 1e-4.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import special, stats

from simulator.analysis import summarise
from simulator.model import Portfolio
from simulator.montecarlo import Outcome, simulate_portfolio
from simulator.scenario import load_scenario

N = 4000  # iterations per run: eight blocks of 500
Z = 4.0  # tolerance in standard errors
KS_ALPHA = 1e-3  # a KS p-value below this fails
Z90 = 1.2815515655446004  # standard normal 90th percentile

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Run:
    pf: Portfolio
    out: Outcome
    start: Array  # (iterations, tasks)
    duration: Array  # (iterations, tasks): finish - start of every task, from the trace

    def task(self, key: str) -> Array:
        return self.duration[:, [t.key for t in self.pf.tasks].index(key)]


def simulate(folder: Path, text: str, *, seed: int, n: int = N) -> Run:
    path = folder / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    pf = load_scenario(path)
    out = simulate_portfolio(pf, n, seed, trace=n)
    it, task = out.trace[:, 0].astype(int), out.trace[:, 1].astype(int)
    start = np.full((n, len(pf.tasks)), np.nan)
    finish = np.full_like(start, np.nan)
    start[it, task], finish[it, task] = out.trace[:, 2], out.trace[:, 3]
    assert not np.isnan(finish).any(), "the trace must cover every task of every iteration"
    return Run(pf, out, start, finish - start)


# --- checks, each with its tolerance ---------------------------------------------------------


def assert_mean(x: Array, mean: float, sd: float) -> None:
    """|sample mean - mean| < Z standard errors, with the theoretical sd."""
    se = sd / math.sqrt(len(x))
    assert abs(float(np.mean(x)) - mean) < Z * se, (
        f"mean {np.mean(x):.5g} vs theory {mean:.5g} (se {se:.3g})"
    )


def assert_variance(x: Array, var: float) -> None:
    """|s^2 - var| < Z * se(s^2), se(s^2) = sqrt((m4 - s^4) / n) from the sample moments."""
    s2 = float(np.var(x, ddof=1))
    m4 = float(np.mean((x - np.mean(x)) ** 4))
    se = math.sqrt((m4 - s2**2) / len(x))
    assert abs(s2 - var) < Z * se, f"variance {s2:.5g} vs theory {var:.5g} (se {se:.3g})"


def assert_prob(hits: NDArray[np.bool_], p: float) -> None:
    """|share - p| < Z * sqrt(p(1-p)/n), the binomial standard error."""
    se = math.sqrt(p * (1 - p) / len(hits))
    assert abs(float(np.mean(hits)) - p) < Z * se, (
        f"share {np.mean(hits):.5g} vs theory {p:.5g} (se {se:.3g})"
    )


def assert_ks(x: Array, cdf: object) -> None:
    """One-sample Kolmogorov-Smirnov test against a theoretical CDF."""
    result = stats.kstest(x, cdf)
    assert result.pvalue > KS_ALPHA, f"KS statistic {result.statistic:.4g}, p={result.pvalue:.3g}"


# --- theoretical distributions (scipy's parameterisations, written out here) ----------------


def pert(a: float, m: float, b: float, shape: float = 4.0) -> stats.rv_continuous:
    alpha = 1 + shape * (m - a) / (b - a)
    beta = 1 + shape * (b - m) / (b - a)
    return stats.beta(alpha, beta, loc=a, scale=b - a)


def triangular(a: float, m: float, b: float) -> stats.rv_continuous:
    return stats.triang((m - a) / (b - a), loc=a, scale=b - a)


def uniform(a: float, b: float) -> stats.rv_continuous:
    return stats.uniform(loc=a, scale=b - a)


def lognormal_mean_sd(mean: float, sd: float) -> stats.rv_continuous:
    s2 = math.log(1 + (sd / mean) ** 2)
    return stats.lognorm(math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))


def lognormal_p10_p90(p10: float, p90: float) -> stats.rv_continuous:
    sigma = (math.log(p90) - math.log(p10)) / (2 * Z90)
    return stats.lognorm(sigma, scale=math.sqrt(p10 * p90))


def normal_at_zero(mu: float, sd: float) -> stats.rv_continuous:
    return stats.truncnorm(-mu / sd, np.inf, loc=mu, scale=sd)


# --- 1. series sums ---------------------------------------------------------------------------

SERIES = """\
    scenario: series
    projects:
      - id: p
        tasks:
          - {id: a, duration: {pert: {low: 2, mode: 5, high: 14}}}
          - {id: b, duration: {triangular: {low: 1, mode: 2, high: 6}}, after: [a]}
          - {id: c, duration: {lognormal: {mean: 4, sd: 2}}, after: [b]}
          - {id: d, duration: {uniform: {low: 1, high: 5}}, after: [c]}
"""


def test_series_chain_adds_means_and_variances(tmp_path: Path) -> None:
    run = simulate(tmp_path, SERIES, seed=101)
    finish = run.out.finish[:, 0]
    # textbook means: PERT (a+4m+b)/6, triangular (a+m+b)/3, lognormal its given mean,
    # uniform (a+b)/2
    mean = (2 + 4 * 5 + 14) / 6 + (1 + 2 + 6) / 3 + 4 + (1 + 5) / 2
    parts = [pert(2, 5, 14), triangular(1, 2, 6), lognormal_mean_sd(4, 2), uniform(1, 5)]
    var = sum(d.var() for d in parts)
    assert var == pytest.approx(2**2 * 8 / 7 + 21 / 18 + 2**2 + 4**2 / 12)
    assert_mean(finish, mean, math.sqrt(var))
    assert_variance(finish, var)
    # each task starts exactly when its predecessor finishes
    np.testing.assert_allclose(
        run.start[:, 1:], run.start[:, :-1] + run.duration[:, :-1], rtol=1e-12, atol=1e-12
    )


# --- 2. parallel maxima -----------------------------------------------------------------------

PARALLEL = """\
    scenario: parallel
    projects:
      - id: p
        tasks:
          - {id: a, duration: {exponential: {mean: 4}}}
          - {id: b, duration: {uniform: {low: 2, high: 10}}}
          - {id: c, duration: {triangular: {low: 1, mode: 3, high: 9}}}
"""


def test_parallel_tasks_finish_at_the_maximum(tmp_path: Path) -> None:
    run = simulate(tmp_path, PARALLEL, seed=202)
    finish = run.out.finish[:, 0]
    parts = [stats.expon(scale=4), uniform(2, 10), triangular(1, 3, 9)]

    def cdf(x: Array) -> Array:
        # independent tasks: P(max <= x) is the product of the CDFs
        return np.prod([d.cdf(x) for d in parts], axis=0)

    for x in (3.0, 5.0, 7.0, 9.0, 12.0):
        assert_prob(finish <= x, float(cdf(np.array(x))))
    assert_ks(finish, cdf)


# --- 3. a capacity-1 pool serialises its tasks ----------------------------------------------

POOL = """\
    scenario: pool
    resources:
      R1: {capacity: 1, cost_per_day: 100}
    projects:
      - id: p
        tasks:
          - {id: a, duration: {pert: {low: 2, mode: 5, high: 14}}, resources: {R1: 1}}
          - {id: b, duration: {triangular: {low: 1, mode: 2, high: 6}}, resources: {R1: 1}}
          - {id: c, duration: {uniform: {low: 1, high: 6}}, resources: {R1: 1}}
          - {id: d, duration: {exponential: {mean: 3}}, resources: {R1: 1}}
"""


def test_capacity_one_pool_runs_tasks_back_to_back(tmp_path: Path) -> None:
    run = simulate(tmp_path, POOL, seed=303)
    finish = run.out.finish[:, 0]
    total = run.duration.sum(axis=1)
    # exact, per iteration: no overlap and no idle time (non-delay dispatch)
    np.testing.assert_allclose(finish, total, rtol=1e-12)
    order = np.argsort(run.start, axis=1)
    starts = np.take_along_axis(run.start, order, axis=1)
    ends = np.take_along_axis(run.start + run.duration, order, axis=1)
    assert np.all(starts[:, 0] == 0.0)
    np.testing.assert_allclose(starts[:, 1:], ends[:, :-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.out.cost[:, 0], 100 * total, rtol=1e-12)
    # waiting for the pool does not change what each task takes
    parts = [pert(2, 5, 14), triangular(1, 2, 6), uniform(1, 6), stats.expon(scale=3)]
    for k, d in enumerate(parts):
        assert_ks(run.duration[:, k], d.cdf)
    mean = (2 + 4 * 5 + 14) / 6 + (1 + 2 + 6) / 3 + (1 + 6) / 2 + 3
    assert_mean(finish, mean, math.sqrt(sum(d.var() for d in parts)))


# --- 4. risks -----------------------------------------------------------------------------

RISK = """\
    scenario: risk
    resources:
      R1: {capacity: 1, cost_per_day: 100}
    projects:
      - id: p
        cost: 500
        overhead_per_day: 10
        tasks:
          - {id: a, duration: 10, resources: {R1: 1}, cost: 50}
    risks:
      - {id: r, probability: 0.3, affects: [p.a], delay: {uniform: {low: 2, high: 6}}, cost: 1000}
"""


def test_risk_adds_probability_times_impact(tmp_path: Path) -> None:
    run = simulate(tmp_path, RISK, seed=404)
    finish, cost = run.out.finish[:, 0], run.out.cost[:, 0]
    p, d, lo, hi, risk_cost = 0.3, 10.0, 2.0, 6.0, 1000.0
    delay_mean = (lo + hi) / 2
    delay_sq = (hi - lo) ** 2 / 12 + delay_mean**2
    # finish = d + I*D: E = d + p E[D], Var = p E[D^2] - (p E[D])^2
    assert_mean(finish, d + p * delay_mean, math.sqrt(p * delay_sq - (p * delay_mean) ** 2))
    late = finish > d
    assert_prob(late, p)
    np.testing.assert_array_equal(late, run.out.occurred[:, 0])
    assert np.all(finish[~late] == d)
    assert_ks(finish[late] - d, uniform(lo, hi).cdf)
    # cost = 500 + 50 + (100 + 10) * finish + 1000 * I, exactly and in the mean
    expected = 550 + 110 * finish + risk_cost * run.out.occurred[:, 0]
    np.testing.assert_allclose(cost, expected, rtol=1e-12)
    sd = math.sqrt(
        110**2 * (p * delay_sq - (p * delay_mean) ** 2)
        + risk_cost**2 * p * (1 - p)
        + 2 * 110 * risk_cost * p * (1 - p) * delay_mean
    )  # Cov(I D, I) = p(1-p) E[D]
    assert_mean(cost, 550 + 110 * (d + p * delay_mean) + p * risk_cost, sd)


RISK_PERCENT = """\
    scenario: risk-percent
    projects:
      - id: p
        tasks:
          - {id: a, duration: {uniform: {low: 10, high: 20}}}
    risks:
      - {id: r, probability: 0.4, affects: [p.a], delay_percent: {uniform: {low: 20, high: 60}}}
"""


def test_risk_delay_percent_scales_the_sampled_duration(tmp_path: Path) -> None:
    run = simulate(tmp_path, RISK_PERCENT, seed=505)
    finish = run.out.finish[:, 0]
    p = 0.4
    size = uniform(10, 20)
    factor = uniform(0.2, 0.6)  # delay percent / 100
    # finish = S * (1 + I*V), S, I, V independent
    m1 = 1 + p * factor.mean()
    m2 = (1 - p) + p * (1 + 2 * factor.mean() + factor.var() + factor.mean() ** 2)
    mean = size.mean() * m1
    var = (size.var() + size.mean() ** 2) * m2 - mean**2
    assert_mean(finish, mean, math.sqrt(var))
    hit = run.out.occurred[:, 0]
    assert_prob(hit, p)
    assert_ks(finish[~hit], size.cdf)
    # a hit multiplies the duration by 1.2 ... 1.6, so the ratio to the base is bounded
    assert np.all((finish[hit] >= 10 * 1.2 - 1e-9) & (finish[hit] <= 20 * 1.6 + 1e-9))


# --- 5. each duration family against scipy ------------------------------------------------

MARGINALS = """\
    scenario: marginals
    projects:
      - {id: pert, tasks: [{id: t, duration: {pert: {low: 2, mode: 5, high: 14}}}]}
      - {id: pert6, tasks: [{id: t, duration: {pert: {low: 1, mode: 2, high: 9, shape: 6}}}]}
      - {id: tri, tasks: [{id: t, duration: {triangular: {low: 1, mode: 4, high: 6}}}]}
      - {id: normal, tasks: [{id: t, duration: {normal: {mean: 3, sd: 2}}}]}
      - {id: logn, tasks: [{id: t, duration: {lognormal: {mean: 6, sd: 3}}}]}
      - {id: logq, tasks: [{id: t, duration: {lognormal: {p10: 8, p90: 22}}}]}
      - {id: expo, tasks: [{id: t, duration: {exponential: {mean: 3}}}]}
      - {id: expo1, tasks: [{id: t, duration: {exponential: {mean: 3, low: 1}}}]}
      - {id: unif, tasks: [{id: t, duration: {uniform: {low: 0, high: 10}}}]}
      - {id: emp, tasks: [{id: t, duration: {empirical: [1, 2, 2, 5]}}]}
      - {id: emp2, tasks: [{id: t, duration: {empirical: {values: [0.5, 3, 7]}}}]}
"""

CONTINUOUS = {
    "pert": pert(2, 5, 14),
    "pert6": pert(1, 2, 9, shape=6),
    "tri": triangular(1, 4, 6),
    "normal": normal_at_zero(3, 2),
    "logn": lognormal_mean_sd(6, 3),
    "logq": lognormal_p10_p90(8, 22),
    "expo": stats.expon(scale=3),
    # the Exponential docstring: "the given mean, optionally shifted by low"
    "expo1": stats.expon(loc=1, scale=2),  # mean 3 = low 1 + scale 2
    "unif": uniform(0, 10),
}

# textbook means, written independently of scipy
MEANS = {
    "pert": (2 + 4 * 5 + 14) / 6,
    "pert6": (1 + 6 * 2 + 9) / 8,
    "tri": (1 + 4 + 6) / 3,
    # truncated normal: mu + sd * phi(a) / (1 - Phi(a)), a = -mu/sd
    "normal": 3 + 2 * math.exp(-(1.5**2) / 2) / math.sqrt(2 * math.pi) / special.ndtr(1.5),
    "logn": 6.0,
    "logq": math.sqrt(8 * 22) * math.exp(((math.log(22) - math.log(8)) / (2 * Z90)) ** 2 / 2),
    "expo": 3.0,
    "expo1": 3.0,
    "unif": 5.0,
}


@pytest.fixture(scope="module")
def marginals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Array]:
    run = simulate(tmp_path_factory.mktemp("marginals"), MARGINALS, seed=606)
    return {p.id: run.out.finish[:, k] for k, p in enumerate(run.pf.projects)}


@pytest.mark.parametrize("family", list(CONTINUOUS))
def test_duration_family_matches_theory(marginals: dict[str, Array], family: str) -> None:
    x, dist = marginals[family], CONTINUOUS[family]
    assert MEANS[family] == pytest.approx(dist.mean())
    assert_mean(x, MEANS[family], dist.std())
    assert_variance(x, dist.var())
    assert_ks(x, dist.cdf)
    lo, hi = dist.support()
    assert np.all((x >= lo - 1e-9) & (x <= hi + 1e-9))


def test_lognormal_by_p10_p90_hits_the_given_percentiles(marginals: dict[str, Array]) -> None:
    x, n = marginals["logq"], len(marginals["logq"])
    dist = lognormal_p10_p90(8, 22)
    for p, value in ((0.1, 8.0), (0.9, 22.0)):
        assert_prob(x <= value, p)
        # order-statistic standard error of the sample quantile: sqrt(p(1-p)/n) / f(x_p)
        se = math.sqrt(p * (1 - p) / n) / dist.pdf(value)
        assert abs(float(np.quantile(x, p)) - value) < Z * se


@pytest.mark.parametrize(("family", "values"), [("emp", [1, 2, 2, 5]), ("emp2", [0.5, 3, 7])])
def test_empirical_resamples_each_listed_value_equally(
    marginals: dict[str, Array], family: str, values: list[float]
) -> None:
    x = marginals[family]
    assert set(np.unique(x)) == set(values)
    for v in set(values):
        assert_prob(x == v, values.count(v) / len(values))
    assert_mean(x, float(np.mean(values)), float(np.std(values)))


# --- 6. correlation -------------------------------------------------------------------------

CORRELATED = """\
    scenario: correlated
    projects:
      - id: p
        tasks:
          - {id: a, duration: {normal: {mean: 10, sd: 2}}}
          - {id: b, duration: {normal: {mean: 20, sd: 3}}}
      - id: q
        correlation: 0.3
        tasks:
          - {id: x, duration: {lognormal: {mean: 5, sd: 2}}}
          - {id: y, duration: {triangular: {low: 1, mode: 2, high: 8}}}
      - id: z
        tasks:
          - {id: u, duration: {normal: {mean: 10, sd: 2}}}
          - {id: v, duration: {normal: {mean: 10, sd: 2}}}
    correlations:
      - {id: g, tasks: ["p.*"], rho: 0.6}
      - {id: zero, tasks: ["z.*"], rho: 0}
"""

CORRELATED_MARGINALS = {
    "p.a": normal_at_zero(10, 2),
    "p.b": normal_at_zero(20, 3),
    "q.x": lognormal_mean_sd(5, 2),
    "q.y": triangular(1, 2, 8),
    "z.u": normal_at_zero(10, 2),
    "z.v": normal_at_zero(10, 2),
}


@pytest.fixture(scope="module")
def correlated(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return simulate(tmp_path_factory.mktemp("correlated"), CORRELATED, seed=707, n=8000)


@pytest.mark.parametrize(
    ("first", "second", "rho"),
    [
        ("p.a", "p.b", 0.6),  # a correlations: group
        ("q.x", "q.y", 0.3),  # a project-level correlation
        ("z.u", "z.v", 0.0),  # a group with rho 0
        ("p.a", "q.x", 0.0),  # different groups are independent
        ("p.b", "z.u", 0.0),
    ],
)
def test_gaussian_copula_rank_correlation(
    correlated: Run, first: str, second: str, rho: float
) -> None:
    x, y = correlated.task(first), correlated.task(second)
    n = len(x)
    # Spearman's rho of a Gaussian copula: (6/pi) asin(rho/2); its SE is at most ~1/sqrt(n)
    spearman = stats.spearmanr(x, y).statistic
    assert abs(spearman - 6 / math.pi * math.asin(rho / 2)) < Z / math.sqrt(n)
    # sharper: the normal scores Phi^-1(F(x)) are bivariate normal with correlation rho,
    # whose sample correlation has SE (1 - rho^2)/sqrt(n)
    zx = special.ndtri(CORRELATED_MARGINALS[first].cdf(x))
    zy = special.ndtri(CORRELATED_MARGINALS[second].cdf(y))
    r = float(np.corrcoef(zx, zy)[0, 1])
    assert abs(r - rho) < Z * (1 - rho**2) / math.sqrt(n)


@pytest.mark.parametrize("key", list(CORRELATED_MARGINALS))
def test_correlation_keeps_the_marginals(correlated: Run, key: str) -> None:
    assert_ks(correlated.task(key), CORRELATED_MARGINALS[key].cdf)


# --- 7. effort -----------------------------------------------------------------------------

EFFORT = """\
    scenario: effort
    resources:
      R1: {capacity: 2, cost_per_day: 100}
      R2: {capacity: 2, cost_per_day: 50}
    projects:
      - id: p
        tasks:
          - {id: a, effort: {uniform: {low: 4, high: 12}}, resources: {R1: 2}}
          - {id: b, effort: {triangular: {low: 3, mode: 6, high: 12}}, resources: {R1: 1, R2: 2},
             after: [a]}
"""


def test_effort_is_shared_by_the_units_assigned(tmp_path: Path) -> None:
    run = simulate(tmp_path, EFFORT, seed=808)
    a, b = run.task("p.a"), run.task("p.b")
    effort_a, effort_b = uniform(4, 12), triangular(3, 6, 12)
    # duration = effort / units: 2 units for a, 1 + 2 = 3 units for b
    assert_mean(a, (4 + 12) / 2 / 2, effort_a.std() / 2)
    assert_mean(b, (3 + 6 + 12) / 3 / 3, effort_b.std() / 3)
    assert_ks(a, uniform(2, 6).cdf)
    assert_ks(b, triangular(1, 2, 4).cdf)
    # cost = duration * sum(units * cost_per_day): a 2*100, b 1*100 + 2*50
    np.testing.assert_allclose(run.out.cost[:, 0], 200 * a + 200 * b, rtol=1e-12)


# --- 8. P(on time) and its standard error ---------------------------------------------------

ON_TIME = """\
    scenario: on-time
    projects:
      - id: p
        deadline: 7
        tasks:
          - {id: a, duration: {uniform: {low: 0, high: 10}}}
"""


def test_probability_on_time_and_its_error(tmp_path: Path) -> None:
    run = simulate(tmp_path, ON_TIME, seed=909)
    summary = summarise(run.pf, run.out, seed=909)
    prob = summary.projects[0].p_on_time
    assert prob is not None
    n, p = N, 0.7
    assert abs(prob.estimate - p) < Z * math.sqrt(p * (1 - p) / n)
    assert prob.estimate == pytest.approx(float(np.mean(run.out.finish[:, 0] <= 7)))
    assert prob.se == pytest.approx(math.sqrt(prob.estimate * (1 - prob.estimate) / n))
    # the 95 % Wilson score interval, from its formula
    z = stats.norm.ppf(0.975)
    q = prob.estimate
    centre = (q + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(q * (1 - q) / n + z**2 / (4 * n**2))
    assert (prob.low, prob.high) == pytest.approx((centre - half, centre + half))
    assert prob.low < p < prob.high


# --- 9. percentile intervals cover the true percentile -----------------------------------

RUNS, SMALL = 100, 200


def test_percentile_intervals_cover_the_true_value(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(ON_TIME))
    pf = load_scenario(path)
    p80 = []
    for seed in range(RUNS):
        summary = summarise(pf, simulate_portfolio(pf, SMALL, seed), seed=seed)
        p80.append(next(q for q in summary.projects[0].finish if q.q == 80))
    truth = 8.0  # P80 of uniform(0, 10)
    covered = sum(q.low <= truth <= q.high for q in p80)
    # the order-statistic interval covers with probability >= 0.95: the count of covering
    # runs is at least binomial(RUNS, 0.95), so allow Z binomial standard errors below 95 %
    assert covered >= RUNS * 0.95 - Z * math.sqrt(RUNS * 0.95 * 0.05)
    # ... and is not trivially wide: its width is near 2 * 1.96 * sqrt(p(1-p)/n) / f(x_p),
    # with f = 1/10 (the rank rounding makes it slightly wider)
    width = float(np.mean([q.high - q.low for q in p80]))
    assert 0.9 < width / (2 * 1.96 * math.sqrt(0.8 * 0.2 / SMALL) * 10) < 1.3
    # the P80 estimates centre on the truth: SE of one is sqrt(p(1-p)/n) / f
    values = np.array([q.value for q in p80])
    assert abs(values.mean() - truth) < Z * math.sqrt(0.8 * 0.2 / SMALL) * 10 / math.sqrt(RUNS)


def test_percentile_intervals_are_the_narrowest_equal_tailed_95(tmp_path: Path) -> None:
    """Exact, distribution-free: with ``B = #{X_i <= x_p} ~ binomial(n, p)``, the order
    statistics of ranks ``l < u`` bracket ``x_p`` exactly when ``l <= B <= u - 1``."""
    n = 199  # not a multiple of 10: the ranks n * q / 100 are fractional
    run = simulate(tmp_path, ON_TIME, seed=910, n=n)
    x = np.sort(run.out.finish[:, 0])
    summary = summarise(run.pf, run.out, seed=910)

    def rank(value: float) -> int:  # 1-based rank of a simulated value
        k = int(np.searchsorted(x, value)) + 1
        assert x[k - 1] == value
        return k

    assert {10, 50, 80, 90} <= {q.q for q in summary.projects[0].finish}
    for q in summary.projects[0].finish:
        # the smallest simulated value with at least q % of iterations at or below it
        assert rank(q.value) == -(-n * q.q // 100)
        b = stats.binom(n, q.q / 100)
        lo, hi = rank(q.low), rank(q.high)
        assert b.cdf(lo - 1) <= 0.025  # P(X_(lo) > x_p)
        assert b.sf(hi - 1) <= 0.025  # P(X_(hi) < x_p)
        assert b.cdf(lo) > 0.025  # one rank closer would miss more than 2.5 % below
        assert b.sf(hi - 2) > 0.025  # ... or above
