"""convcalc: exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks."""

from convcalc.core.layer import avgpool, conv, deconv, linear, maxpool
from convcalc.core.resolved import LayerResult
from convcalc.errors import ConvCalcError, InputError, ShapeError, SpecError

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """Network functions load on first use, so `convcalc layer` does not pay for them."""
    if name == "load_spec":
        from convcalc.specfile.loader import load

        return load
    if name == "load_spec_text":
        from convcalc.specfile.loader import load_text

        return load_text
    if name == "analyze":
        from convcalc.graph.analysis import analyze

        return analyze
    raise AttributeError(f"module 'convcalc' has no attribute {name!r}")

__all__ = [
    "ConvCalcError",
    "InputError",
    "LayerResult",
    "ShapeError",
    "SpecError",
    "__version__",
    "analyze",
    "load_spec",
    "load_spec_text",
    "avgpool",
    "conv",
    "deconv",
    "linear",
    "maxpool",
]
