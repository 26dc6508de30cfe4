"""The reference engine on the 480 PSPLIB J30 instances (fixed durations, rule lft).

DESIGN.md states what a correct parallel schedule generation scheme with the latest-finish
rule gives: never below the optimum, equal to it on 206 instances, 4.39 % above on average.
"""

from __future__ import annotations

import numpy as np
import pytest
from psplib import PSPLIB, optima, read_sm

from simulator.engine import simulate

pytestmark = pytest.mark.skipif(
    not (PSPLIB / "j30opt.sm").exists(), reason="../shared/data/psplib is not beside the checkout"
)


def test_j30_makespans_match_the_published_figures() -> None:
    best = optima()
    assert len(best) == 480
    gaps, equal = [], 0
    for name, opt in sorted(best.items()):
        pf = read_sm(PSPLIB / "j30" / f"{name}.sm")
        assert pf.priority_rule == "lft"
        durations = np.array([t.size.mean for t in pf.tasks])
        makespan = simulate(pf.network, durations).finish.max()
        assert makespan >= opt, f"{name}: {makespan} is below the optimum {opt}"
        equal += makespan == opt
        gaps.append(100 * (makespan - opt) / opt)
    assert equal == 206
    assert round(float(np.mean(gaps)), 2) == 4.39


def test_j30_schedules_respect_precedence_and_capacity() -> None:
    pf = read_sm(PSPLIB / "j30" / "j3013_1.sm")
    net = pf.network
    dur = np.array([t.size.mean for t in pf.tasks])
    s = simulate(net, dur)
    for i, task in enumerate(pf.tasks):
        for j, *_ in task.preds:
            assert s.start[i] >= s.finish[j]
    for t in np.unique(s.start):
        running = (s.start <= t) & (t < s.finish)
        assert np.all(net.demand[running].sum(axis=0) <= net.capacity)
