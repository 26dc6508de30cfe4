"""pmosim's calibration: delivery history into duration and effort distributions.

Loading, cleaning, fitting and backtesting arrive with the calibration work (issue 4); the
package exists now so that the distribution name ``pmosim`` ships both halves of the design.
"""

__all__: list[str] = []
