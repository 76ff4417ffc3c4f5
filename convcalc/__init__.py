"""convcalc: exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks."""

from convcalc.errors import ConvCalcError, InputError, ShapeError, SpecError
from convcalc.layers import LayerResult, avgpool, conv, deconv, linear, maxpool

__version__ = "0.1.0"

__all__ = [
    "ConvCalcError",
    "InputError",
    "LayerResult",
    "ShapeError",
    "SpecError",
    "__version__",
    "avgpool",
    "conv",
    "deconv",
    "linear",
    "maxpool",
]
