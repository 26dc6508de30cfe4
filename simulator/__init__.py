"""pmosim's simulator: scenario files in, Monte Carlo forecasts of a project portfolio out.

The stages of the data flow, each a subpackage that imports only the ones before it:
``model`` <- ``scenario`` <- ``sampling`` <- ``engine`` <- ``montecarlo`` <- ``analysis``
<- ``output`` <- ``cli`` (``errors`` is shared by all).

>>> from simulator import load_scenario, simulate_portfolio, summarise
>>> pf = load_scenario("scenarios/portfolio-2027.yaml")          # doctest: +SKIP
>>> outcome = simulate_portfolio(pf, 2000, seed=1)               # doctest: +SKIP
>>> summarise(pf, outcome, seed=1).projects[0].p_on_time         # doctest: +SKIP
"""

from .analysis import RunSummary, summarise
from .errors import HistoryError, PmosimError, Problem, ScenarioError, SimulationError
from .montecarlo import Outcome, simulate_portfolio
from .scenario import load_scenario

__all__ = [
    "HistoryError",
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
