"""pmosim's calibration: delivery history into duration and effort distributions.

``history`` reads and cleans a history file (CSV or Excel, columns mapped by ``mapping``),
``fit`` fits the ratio actual/estimate of one reference class, ``reference`` one model per
class with partial pooling, ``calfile`` writes calibration files that scenarios cite,
``backtest`` scores the ranges on later tasks, and ``commands`` adds ``pmosim calibrate``,
``estimate`` and ``backtest`` to the command line. Built on :mod:`simulator`'s public API
(the ratio-model values and the calibration-file reader live there); the simulator never
imports this package.
"""

__all__: list[str] = []
