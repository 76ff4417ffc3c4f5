"""ONNX graphs built with onnx.helper (no torch): every attribute form the reader takes, with shapes, params and MACs
worked out by hand, and every refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
pytestmark = pytest.mark.onnx

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from convcalc.errors import ConvCalcError  # noqa: E402
from convcalc.frontends.sources import SourceOptions, load_network  # noqa: E402
from convcalc.graph.analysis import analyze  # noqa: E402


def weight(name: str, *dims: int, value: float = 0.5) -> Any:
    return numpy_helper.from_array(np.full(dims, value, dtype=np.float32), name)


def ints(name: str, *values: int) -> Any:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def save(folder: Path, nodes: list[Any], initializers: list[Any], shape: list[Any], opset: int = 17,
         outputs: tuple[str, ...] = ("y",), inputs: tuple[str, ...] = ("x",)) -> str:  # fmt: skip
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name in inputs],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs], initializer=initializers,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    return str(path)


def report(path: str, input_shape: tuple[int, ...] | None = None) -> Any:
    return analyze(load_network(path, 10**6, SourceOptions(input_shape=input_shape)))


def rows(path: str) -> list[tuple[str, tuple[int, ...], int, int]]:
    return [(row.op, tuple(row.output_shape), row.params, row.macs) for row in report(path).rows]


def conv_node(**attrs: Any) -> Any:
    return helper.make_node("Conv", ["x", "w", "b"], ["y"], name="/conv1/Conv", **attrs)


# -- Conv --------------------------------------------------------------------------------------------------------
def test_conv_pads_begin_then_end(tmp_path: Path) -> None:
    # pads [top, left, bottom, right] = [1, 0, 2, 1]: H 10 + 1 + 2 - 3 + 1 = 11, W 12 + 0 + 1 - 3 + 1 = 11
    path = save(tmp_path, [conv_node(pads=[1, 0, 2, 1])], [weight("w", 4, 3, 3, 3), weight("b", 4)], [1, 3, 10, 12])
    ((op, shape, params, macs),) = rows(path)
    assert (op, shape) == ("conv", (11, 11, 4))
    assert params == 4 * 3 * 9 + 4 and macs == 11 * 11 * 4 * 3 * 9


@pytest.mark.parametrize(("auto_pad", "expected"), [("SAME_UPPER", (4, 5)), ("SAME_LOWER", (4, 5)), ("VALID", (3, 4))])
def test_conv_auto_pad(tmp_path: Path, auto_pad: str, expected: tuple[int, int]) -> None:
    # stride 2, k 3 on 7x9: SAME -> ceil(7/2) = 4, ceil(9/2) = 5; VALID -> (7-3)//2+1 = 3, (9-3)//2+1 = 4
    node = conv_node(auto_pad=auto_pad, strides=[2, 2])
    path = save(tmp_path, [node], [weight("w", 2, 3, 3, 3), weight("b", 2)], [1, 3, 7, 9])
    assert rows(path)[0][1] == (*expected, 2)


def test_same_lower_puts_the_odd_pixel_first(tmp_path: Path) -> None:
    # k 2, s 1 on 5: total pad 1; SAME_LOWER: before 1, after 0; the field's first input position is -1
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="SAME_LOWER")
    path = save(tmp_path, [node], [weight("w", 1, 1, 2)], [1, 1, 5])
    row = report(path).rows[0]
    assert row.output_shape == (5, 1) and row.node.args["p"] == [[1, 0]]


def test_conv_groups_and_dilations(tmp_path: Path) -> None:
    # group 2, dilation 2, k 3: 9 - 2*2 = 5; params 8 * (4/2) * 9 (no bias)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", group=2, dilations=[2, 2])
    path = save(tmp_path, [node], [weight("w", 8, 2, 3, 3)], [1, 4, 9, 9])
    assert rows(path) == [("conv", (5, 5, 8), 8 * 2 * 9, 5 * 5 * 8 * 2 * 9)]


# -- ConvTranspose -----------------------------------------------------------------------------------------------
def test_conv_transpose_output_padding(tmp_path: Path) -> None:
    # (5 - 1) * 2 - 2 + (3 - 1) + 1 + output_padding 1 = 10; weight (C_in 4, C_out 6, 3, 3)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="d", strides=[2, 2], pads=[1, 1, 1, 1],
                            output_padding=[1, 1])  # fmt: skip
    path = save(tmp_path, [node], [weight("w", 4, 6, 3, 3)], [1, 4, 5, 5])
    assert rows(path) == [("deconv", (10, 10, 6), 4 * 6 * 9, 5 * 5 * 4 * 6 * 9)]


def test_conv_transpose_output_shape(tmp_path: Path) -> None:
    # output_shape 9x10 from 5x5, s 2, k 3: totals 2*4 + 3 - 9 = 2 and 2*4 + 3 - 10 = 1 (the odd pixel at the end)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="d", strides=[2, 2], output_shape=[9, 10])
    path = save(tmp_path, [node], [weight("w", 4, 2, 3, 3)], [1, 4, 5, 5])
    assert rows(path)[0][1] == (9, 10, 2)


# -- pooling -----------------------------------------------------------------------------------------------------
def test_maxpool_ceil_mode_and_default_stride_one(tmp_path: Path) -> None:
    # ONNX's default stride is 1 (not k): 7 - 3 + 1 = 5; then ceil mode k 2 s 2 on 5: ceil((5 - 2) / 2) + 1 = 3
    nodes = [helper.make_node("MaxPool", ["x"], ["h"], name="p1", kernel_shape=[3, 3]),
             helper.make_node("MaxPool", ["h"], ["y"], name="p2", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)]
    path = save(tmp_path, nodes, [], [1, 3, 7, 7])
    assert [shape for _, shape, _, _ in rows(path)] == [(5, 5, 3), (3, 3, 3)]


def test_a_shape_disagreement_is_a_warning_naming_the_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # ceil mode on 4 padded to 5 (pad after 1), k 2 s 2: ONNX's inference says ceil(3/2) + 1 = 3; PyTorch (and
    # convcalc) drop the last window, which would start at 4 >= n 4 + pad before 0: 2
    node = helper.make_node("MaxPool", ["x"], ["y"], name="p2", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
                            pads=[0, 0, 1, 1])  # fmt: skip
    path = save(tmp_path, [node], [], [1, 3, 4, 4])
    assert rows(path)[0][1] == (2, 2, 3)
    assert "warning: ONNX node 'p2': ONNX infers 3x3x3, convcalc's maxpool gives 2x2x3" in capsys.readouterr().err


def test_avgpool_count_include_pad(tmp_path: Path) -> None:
    node = helper.make_node("AveragePool", ["x"], ["y"], name="a", kernel_shape=[3, 3], strides=[2, 2],
                            pads=[1, 1, 1, 1], count_include_pad=1)  # fmt: skip
    path = save(tmp_path, [node], [], [1, 3, 8, 8])
    row = report(path).rows[0]
    assert row.output_shape == (4, 4, 3) and row.node.args["count_include_pad"] is True


# -- Gemm, MatMul --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("trans_b", "dims"), [(0, (16, 10)), (1, (10, 16))])
def test_gemm_trans_b(tmp_path: Path, trans_b: int, dims: tuple[int, int]) -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="/fc/Gemm", transB=trans_b)
    path = save(tmp_path, [node], [weight("w", *dims), weight("b", 10)], [1, 16])
    assert rows(path) == [("linear", (10,), 16 * 10 + 10, 16 * 10)]


def test_matmul_by_a_weight_broadcasts_over_leading_axes(tmp_path: Path) -> None:
    # (N, 7, 16) @ (16, 8) + b(8): a linear on the last axis, 7 rows
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="/proj/MatMul"),
             helper.make_node("Add", ["h", "b"], ["y"], name="/proj/Add")]  # fmt: skip
    path = save(tmp_path, nodes, [weight("w", 16, 8), weight("b", 8)], [1, 7, 16])
    assert rows(path) == [("linear", (7, 8), 16 * 8 + 8, 7 * 16 * 8)]


def test_matmul_of_two_tensors(tmp_path: Path) -> None:
    # (N, 2, 5, 3) @ (N, 1, 3, 4) -> (N, 2, 5, 4): 2 * 5 * 4 outputs of 3 MACs each
    nodes = [helper.make_node("Slice", ["x", "s", "e", "a"], ["q"], name="sl"),
             helper.make_node("Transpose", ["q"], ["t"], name="tr", perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["x", "t"], ["y"], name="mm")]  # fmt: skip
    path = save(tmp_path, nodes, [ints("s", 0), ints("e", 3), ints("a", 2)], [1, 2, 5, 3])
    # q (N, 2, 3, 3), t its transpose; x @ t: (N, 2, 5, 3)
    assert rows(path)[-1][:2] == ("matmul", (2, 5, 3)) and rows(path)[-1][3] == 2 * 5 * 3 * 3


# -- opset-dependent inputs and attributes -----------------------------------------------------------------------
def test_pad_input_and_attribute_forms(tmp_path: Path) -> None:
    # pads [N, C, H, W begins, N, C, H, W ends] = H 1/2, W 0/3: 4 + 3 = 7, 5 + 3 = 8
    node = helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="reflect")
    path = save(tmp_path, [node], [ints("p", 0, 0, 1, 0, 0, 0, 2, 3)], [1, 2, 4, 5], opset=13)
    row = report(path).rows[0]
    assert row.output_shape == (7, 8, 2) and row.node.args["mode"] == "reflect"


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_sizes_every_opset(tmp_path: Path, opset: int) -> None:
    sizes = [2, 4]
    if opset == 11:
        node = helper.make_node("Split", ["x"], ["a", "b"], name="s", axis=1, split=sizes)
        inits = []
    else:
        node = helper.make_node("Split", ["x", "sp"], ["a", "b"], name="s", axis=1)
        inits = [ints("sp", *sizes)]
    nodes = [node, helper.make_node("Add", ["a", "a"], ["y"], name="add"),
             helper.make_node("Relu", ["b"], ["z"], name="relu")]  # fmt: skip
    path = save(tmp_path, nodes, inits, [1, 6, 3, 3], opset=opset, outputs=("y", "z"))
    got = report(path)
    assert got.rows[0].output_shapes == ((3, 3, 2), (3, 3, 4)) and got.rows[0].node.args["dim"] == 2  # ONNX axis 1: the channels, last of (H, W, C)


@pytest.mark.parametrize("opset", [11, 18])
def test_reduce_mean_axes_attribute_or_input(tmp_path: Path, opset: int) -> None:
    # mean over H, W (ONNX axes 2, 3) without keepdims: (N, C) -> C
    if opset < 18:
        node = helper.make_node("ReduceMean", ["x"], ["y"], name="m", axes=[2, 3], keepdims=0)
        inits = []
    else:
        node = helper.make_node("ReduceMean", ["x", "ax"], ["y"], name="m", keepdims=0)
        inits = [ints("ax", 2, 3)]
    path = save(tmp_path, [node], inits, [1, 5, 4, 4], opset=opset)
    row = report(path).rows[0]
    assert row.output_shape == (5,) and row.node.args["dims"] == [0, 1]


def test_slice_inputs_and_channels_axis(tmp_path: Path) -> None:
    # channels 1:7:2 -> 3, W from -3 -> 3; starts/ends/axes/steps inputs
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="sl")
    path = save(tmp_path, [node], [ints("s", 1, -3), ints("e", 7, 2**62), ints("a", 1, 3), ints("st", 2, 1)], [1, 8, 4, 6])
    assert report(path).output_shape == (4, 3, 3)


def test_flatten_reshape_transpose_axes(tmp_path: Path) -> None:
    # (N, C=4, H=2, W=3): transpose to (N, H, W, C) is convcalc's own order (no layer); reshape to (N, 6, 4)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="t", perm=[0, 2, 3, 1]),
             helper.make_node("Reshape", ["t", "shape"], ["r"], name="r"),
             helper.make_node("Softmax", ["r"], ["y"], name="sm", axis=1)]  # fmt: skip
    path = save(tmp_path, nodes, [ints("shape", 1, 6, 4)], [1, 4, 2, 3])
    got = report(path)
    assert [row.op for row in got.rows] == ["reshape", "softmax"]
    assert got.rows[-1].output_shape == (6, 4) and got.rows[-1].node.args["dim"] == 0


def test_global_pool_then_flatten_then_gemm(tmp_path: Path) -> None:
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "w"], ["y"], name="fc", transB=1)]  # fmt: skip
    path = save(tmp_path, nodes, [weight("w", 10, 8)], [1, 8, 7, 7])
    assert [shape for _, shape, _, _ in rows(path)] == [(1, 1, 8), (8,), (10,)]


# -- params: shared initializers, norms, constants ---------------------------------------------------------------
def test_shared_matmul_weight_is_counted_once(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="a"),
             helper.make_node("MatMul", ["h", "w"], ["y"], name="b")]  # fmt: skip
    path = save(tmp_path, nodes, [weight("w", 8, 8)], [1, 3, 8])
    got = report(path)
    assert got.params == 64 and got.macs == 2 * 3 * 8 * 8


def test_batchnorm_scale_and_bias_are_params_mean_and_var_buffers(tmp_path: Path) -> None:
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")
    path = save(tmp_path, [node], [weight(n, 6) for n in "sbmv"], [1, 6, 4, 4])
    row = report(path).rows[0]
    assert (row.params, row.buffers) == (12, 12)


def test_layernorm_prelu_and_a_constant_operand(tmp_path: Path) -> None:
    nodes = [helper.make_node("LayerNormalization", ["x", "g", "b"], ["n"], name="ln", axis=-1),
             helper.make_node("Mul", ["n", "scale"], ["m"], name="ls"),
             helper.make_node("Mul", ["m", "half"], ["y"], name="half")]  # fmt: skip
    inits = [weight("g", 16), weight("b", 16), weight("scale", 16), weight("half", 1)]
    path = save(tmp_path, nodes, inits, [1, 5, 16])
    got = report(path)
    assert got.params == 16 + 16 + 16  # the layer scale is a param; the single number a value
    assert got.rows[-1].node.args == {"value": 0.5}


# -- refusals ------------------------------------------------------------------------------------------------------
def refusal(path: str, *flags: str) -> str:
    result = cli("net", path, *flags)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convcalc: error: ")
    return lines[0]


def test_an_op_outside_the_vocabulary_names_node_type_and_domain(tmp_path: Path) -> None:
    path = save(tmp_path, [helper.make_node("Hardmax", ["x"], ["y"], name="hm")], [], [1, 4])
    line = refusal(path)
    assert "'hm'" in line and "'Hardmax'" in line and "'ai.onnx'" in line


def test_a_custom_domain_is_refused(tmp_path: Path) -> None:
    node = helper.make_node("Fancy", ["x"], ["y"], name="f", domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    line = refusal(str(path))
    assert "'f'" in line and "'Fancy'" in line and "'com.example'" in line


def test_symbolic_dims_need_input_and_take_it(tmp_path: Path) -> None:
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="r")], [], ["N", 3, "H", "W"])
    assert "--input" in refusal(path)
    assert report(path, (8, 6, 3)).output_shape == (8, 6, 3)


def test_gather_of_a_list_of_positions_is_index_select(tmp_path: Path) -> None:
    # (N, 4, 6) transposed to (N, 6, 4), read channels first (6 channels of 4 positions: logical 4x6), gathered on
    # axis 1 by [5, 0, -1, 2] (a reordering with a repeat; -1 is 5): the channels, logical axis 1; 4x4
    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="tr", perm=[0, 2, 1]),
             helper.make_node("Gather", ["t", "i"], ["y"], name="/pick/Gather", axis=1)]  # fmt: skip
    path = save(tmp_path, nodes, [ints("i", 5, 0, -1, 2)], [1, 4, 6])
    (row,) = [row for row in report(path).rows if row.op == "index_select"]
    assert row.node.args == {"index": [5, 0, 5, 2], "dim": 1} and row.output_shape == (4, 4)
    run = helper.make_node("Gather", ["x", "i"], ["y"], name="/run/Gather", axis=2)  # a run: still a slice
    assert rows(save(tmp_path, [run], [ints("i", 1, 2, 3)], [1, 4, 6]))[0][:2] == ("slice", (4, 3))


def test_refusals(tmp_path: Path) -> None:
    gemm = helper.make_node("Gemm", ["x", "w"], ["y"], name="g", transA=1)
    assert "transA" in refusal(save(tmp_path, [gemm], [weight("w", 4, 4)], [4, 4]))
    two = save(tmp_path, [helper.make_node("Add", ["x", "z"], ["y"], name="a")], [], [1, 4], inputs=("x", "z"))
    assert "one input" in refusal(two)
    merge = helper.make_node("Reshape", ["x", "s"], ["y"], name="r")  # a batch of 2 merged with the rows
    assert "merges the batch" in refusal(save(tmp_path, [merge], [ints("s", 6, 4)], [2, 3, 4]))
    bad = helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[1, 5, 0])
    assert "not a permutation" in refusal(save(tmp_path, [bad], [], [1, 2, 3]))
    old = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="r")], [], [1, 4], opset=9)
    assert "opset 9" in refusal(old)
    shared = [helper.make_node("Conv", ["x", "w"], ["h"], name="c1", pads=[1, 1, 1, 1]),
              helper.make_node("Conv", ["h", "w"], ["y"], name="c2", pads=[1, 1, 1, 1])]  # fmt: skip
    assert "shared" in refusal(save(tmp_path, shared, [weight("w", 3, 3, 3, 3)], [1, 3, 5, 5]))


# -- the batch axis moved and merged (PyTorch's nn.MultiheadAttention works sequence first) ----------------------
def test_attention_sequence_first_with_the_batch_merged_into_the_heads(tmp_path: Path) -> None:
    # x (1, L 6, C 8): (L, N, C), heads as (L, N*2, 4) -> (N*2, L, 4); q k^T and a v: 2 heads x 6 x 6 x 4 MACs each;
    # back (L, N*2, 4) -> (L, N, C) -> (N, L, C)
    def t(a: str, b: str, perm: list[int]) -> Any:
        return helper.make_node("Transpose", [a], [b], name=f"/attn/{b}", perm=perm)

    nodes = [t("x", "lnc", [1, 0, 2]), helper.make_node("Reshape", ["lnc", "heads"], ["lhd"], name="/attn/split"),
             t("lhd", "q", [1, 0, 2]), t("q", "kt", [0, 2, 1]),
             helper.make_node("MatMul", ["q", "kt"], ["scores"], name="/attn/qk"),
             helper.make_node("Softmax", ["scores"], ["p"], name="/attn/softmax", axis=-1),
             helper.make_node("MatMul", ["p", "q"], ["o"], name="/attn/av"), t("o", "lho", [1, 0, 2]),
             helper.make_node("Reshape", ["lho", "whole"], ["lno"], name="/attn/merge"), t("lno", "y", [1, 0, 2])]  # fmt: skip
    path = save(tmp_path, nodes, [ints("heads", 6, 2, 4), ints("whole", 6, 1, 8)], [1, 6, 8])
    result = report(path)
    assert result.output_shape == (6, 8)
    assert result.macs == 2 * (2 * 6 * 6 * 4)
    shapes = {row.op: tuple(row.output_shape) for row in result.rows}
    assert shapes["matmul"] == (2, 6, 4) and shapes["softmax"] == (2, 6, 6)


def test_a_transpose_may_move_the_batch_and_a_linear_follow(tmp_path: Path) -> None:
    # (1, 5, 3) -> (5, 1, 3) @ (3, 7) -> (5, 1, 7) -> (1, 5, 7): 5 x 3 x 7 MACs, 21 params
    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="t1", perm=[1, 0, 2]),
             helper.make_node("MatMul", ["t", "w"], ["m"], name="fc"),
             helper.make_node("Transpose", ["m"], ["y"], name="t2", perm=[1, 0, 2])]  # fmt: skip
    result = report(save(tmp_path, nodes, [weight("w", 3, 7)], [1, 5, 3]))
    assert (result.output_shape, result.params, result.macs) == ((5, 7), 21, 5 * 3 * 7)


def test_reshape_transpose_reshape_is_a_channel_shuffle(tmp_path: Path) -> None:
    # (1, 6, 4, 4) -> (1, 2, 3, 4, 4) -> swap the groups -> (1, 6, 4, 4): channel_shuffle of 2 groups, after a 3x3
    # conv the field stays 3x3 (a shuffle moves channels, not positions)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
             helper.make_node("Reshape", ["c", "split"], ["g"], name="/shuffle/Reshape"),
             helper.make_node("Transpose", ["g"], ["t"], name="/shuffle/Transpose", perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "back"], ["y"], name="/shuffle/Reshape_1")]  # fmt: skip
    initializers = [weight("w", 6, 3, 3, 3), ints("split", 1, 2, 3, 4, 4), ints("back", 1, 6, 4, 4)]
    result = report(save(tmp_path, nodes, initializers, [1, 3, 4, 4]))
    assert [(row.op, tuple(row.output_shape)) for row in result.rows] == [("conv", (4, 4, 6)), ("channel_shuffle", (4, 4, 6))]
    assert result.rows[-1].node.args["groups"] == 2
    assert result.rows[-1].field == result.rows[0].field


def test_an_identity_of_an_initializer_is_a_parameter_of_its_own(tmp_path: Path) -> None:
    # PyTorch's exporter gives a parameter equal to another as an Identity of it: two 40x40 weights (3200 params,
    # large enough that their values are not read); the same initializer read twice is one tied weight (1600)
    copy = helper.make_node("Identity", ["w"], ["w2"], name="i1")
    first = helper.make_node("MatMul", ["x", "w"], ["h"], name="m1")
    copies = report(save(tmp_path, [copy, first, helper.make_node("MatMul", ["h", "w2"], ["y"], name="m2")],
                       [weight("w", 40, 40)], [1, 2, 40]))  # fmt: skip
    assert (copies.params, [row.op for row in copies.rows]) == (3200, ["linear", "linear"])
    tied = [first, helper.make_node("MatMul", ["h", "w"], ["y"], name="m2")]
    assert report(save(tmp_path, tied, [weight("w", 40, 40)], [1, 2, 40])).params == 1600


def test_shape_arithmetic_on_constants_is_folded_before_shape_inference(tmp_path: Path) -> None:
    # a position embedding (40, 30) expanded to (N, 40, 30) by a shape that Where computes (PyTorch's expand(-1, ...)):
    # the Add reads it as a (40, 30) param
    nodes = [helper.make_node("ConstantOfShape", ["three"], ["ones"], name="cos",
                              value=numpy_helper.from_array(np.array([1], dtype=np.int64))),
             helper.make_node("Equal", ["wanted", "minus"], ["is_minus"], name="eq"),
             helper.make_node("Where", ["is_minus", "ones", "wanted"], ["shape"], name="where"),
             helper.make_node("Expand", ["pos", "shape"], ["big"], name="expand"),
             helper.make_node("Add", ["x", "big"], ["y"], name="add")]  # fmt: skip
    initializers = [ints("three", 3), ints("wanted", -1, 40, 30), ints("minus", -1, -1, -1), weight("pos", 40, 30)]
    result = report(save(tmp_path, nodes, initializers, [1, 40, 30]))
    assert (result.output_shape, result.params) == ((40, 30), 1200)


def test_without_the_onnx_package_one_line_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from convcalc.frontends import onnx_reader

    real = builtins.__import__

    def no_onnx(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ConvCalcError, match=r"pip install 'convcalc\[onnx\]'"):
        onnx_reader.require_onnx()


def test_check_with_expectations_on_the_command_line(tmp_path: Path) -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", transB=1)
    path = save(tmp_path, [node], [weight("w", 10, 16), weight("b", 10)], [1, 16])
    assert cli("check", path, "--expect", "params == 170", "--expect", "output 10").exit_code == 0
    failed = cli("check", path, "--expect", "params < 100")
    assert failed.exit_code == 1 and "params 170 >= 100" in failed.output
    assert cli("check", path).exit_code == 2
    assert "--expect" in cli("check", path, "--expect", "weights < 3").stderr
