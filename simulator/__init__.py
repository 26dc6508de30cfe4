"""pmosim's simulator: scenario files in, Monte Carlo forecasts of a project portfolio out.

>>> from simulator import load_scenario, simulate_portfolio, summarise
>>> pf = load_scenario("scenarios/portfolio-2027.yaml")          # doctest: +SKIP
>>> outcome = simulate_portfolio(pf, 2000, seed=1)               # doctest: +SKIP
>>> summarise(pf, outcome, seed=1).projects[0].p_on_time         # doctest: +SKIP
"""

from .errors import PmosimError, Problem, ScenarioError, SimulationError
from .montecarlo import Outcome, simulate_portfolio
from .results import RunSummary, summarise
from .scenario import load_scenario

__all__ = [
    "Outcome",
    "PmosimError",
    "Problem",
    "RunSummary",
    "ScenarioError",
    "SimulationError",
    "load_scenario",
    "simulate_portfolio",
    "summarise",
]
