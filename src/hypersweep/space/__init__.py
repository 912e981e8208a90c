"""Search spaces: parameter types, shorthand parsing, validation, grids and the unit-cube encoding.

Pure code, no I/O: every other part of hypersweep receives a `Space`.
"""

from hypersweep.space.params import Categorical, Constant, Distribution, Float, Int, Param, Real
from hypersweep.space.space import Space, as_param

__all__ = ["Categorical", "Constant", "Distribution", "Float", "Int", "Param", "Real", "Space", "as_param"]
