"""tsconv: every linear time-series operator is a 1D convolution kernel.

The public API, flat:

Operators (:mod:`tsconv.kernel`)
    :class:`Kernel` (a lag polynomial; ``@`` composes), :class:`Transfer` (a ratio of two:
    an IIR filter).
The engine (:mod:`tsconv.engine`)
    :func:`apply` (direct / FFT / recursive, edges, NaN, axis, pandas), :class:`Stream`
    (chunked, O(kernel) state), :func:`choose_method`, :func:`stochastic_apply`.
"""

from tsconv.engine import Stream, apply, choose_method, stochastic_apply
from tsconv.kernel import Kernel, Transfer

__version__ = "0.1.0"

__all__ = [
    "Kernel",
    "Transfer",
    "apply",
    "Stream",
    "choose_method",
    "stochastic_apply",
    "__version__",
]
