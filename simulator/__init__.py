"""pmosim's simulator: scenario files in, Monte Carlo forecasts of a project portfolio out.

The stages of the data flow, each a subpackage that imports only the ones before it:
``model`` <- ``scenario`` <- ``sampling`` <- ``engine`` <- ``montecarlo`` <- ``analysis``
<- ``output`` <- ``cli`` (``errors`` is shared by all).

>>> from simulator import load_scenario, simulate_portfolio, summarise
>>> pf = load_scenario("scenarios/portfolio-2027.yaml")          # doctest: +SKIP
>>> outcome = simulate_portfolio(pf, 2000, seed=1)               # doctest: +SKIP
>>> summarise(pf, outcome, seed=1).projects[0].p_on_time         # doctest: +SKIP

The names below are imported when first used: ``import simulator`` loads no numerical
library, so the command line starts (and can be interrupted) before they load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "HistoryError": "errors",
    "Outcome": "montecarlo",
    "PmosimError": "errors",
    "Problem": "errors",
    "RunSummary": "analysis",
    "ScenarioError": "errors",
    "SimulationError": "errors",
    "load_scenario": "scenario",
    "simulate_portfolio": "montecarlo",
    "summarise": "analysis",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its subpackage when first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
