"""The fixed choices of the command line, as enums (typer turns them into validated choices): the output formats of
each command, the counting conventions and the element types. Each is a str, so it compares and prints as its
value. The names of conventions and element types are those of the library (``conventions.counting.TOOLS``,
``graph.analysis.DTYPE_BYTES``; a test keeps them equal), written out here so that `convcalc layer` need not
import the network modules to parse its options."""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    """--format of `layer` and `ops`."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


class NetFormat(StrEnum):
    """--format of `net` (its --explain writes table, json and markdown; --compare and --verify all but html)."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"


class CheckFormat(StrEnum):
    """--format of `check`; text is table's name before 0.1, still accepted."""

    TABLE = "table"
    GITHUB = "github"
    JSON = "json"
    TEXT = "text"


class Convention(StrEnum):
    """--convention: whose way of counting MACs."""

    CONVCALC = "convcalc"
    TORCHINFO = "torchinfo"
    FVCORE = "fvcore"
    PTFLOPS = "ptflops"
    THOP = "thop"
    ULTRALYTICS = "ultralytics"


class DType(StrEnum):
    """--dtype: the element type that sizes memory."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"


class SolveFormat(StrEnum):
    """--format of `solve`."""

    TABLE = "table"
    JSON = "json"


class SolveOp(StrEnum):
    """--op of `solve`: the windows it can solve (``core.solve.OPS``; a test keeps them equal)."""

    CONV = "conv"
    DECONV = "deconv"
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"


# convcalc's own counting convention in words: the epilog of `--help` and the HTML report's note (one text)
CONVENTION = (
    "Counting convention: MACs are the weights' multiply-accumulates, bias excluded; a transposed conv is "
    "counted per input position (input elements * C_out/g * prod(k)); FLOPs = 2*MACs + one add per output "
    "element for a bias; max pooling prod(k)-1 comparisons, average pooling prod(k) per output element."
)
