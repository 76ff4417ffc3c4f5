"""Capturing PyTorch models with torch.export (convcalc.frontends.torch_capture): each failure class of the fx
importer as a small module, checked against PyTorch itself: params = sum(p.numel()), MACs = FlopCounterMode / 2,
the output shapes, every layer's shape through the exported module (``verify``)."""

from __future__ import annotations

import math

import pytest

from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork, to_spec_data
from convcalc.graph.analysis import Report, analyze
from convcalc.specfile.loader import build

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def capture(model: object, shape: tuple[int, ...]) -> tuple[FlatNetwork, Report]:
    from convcalc.frontends.torch_capture import capture as torch_capture

    flat = torch_capture(model, shape, "model")
    return flat, analyze(build(to_spec_data(flat), "model.yaml", 10**6))


def truth(model: object, shape: tuple[int, ...]) -> tuple[int, int, list[tuple[int, ...]]]:
    """PyTorch's params, MACs (FlopCounterMode / 2, SDPA's math kernel) and output shapes (batch dropped) at batch 1,
    eval mode."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()  # type: ignore[attr-defined]
    torch.backends.mha.set_fastpath_enabled(False)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:  # attention's matmuls counted
        output = model(torch.randn(1, shape[-1], *shape[:-1]))  # type: ignore[operator]
    leaves = [t for t in torch.utils._pytree.tree_leaves(output) if isinstance(t, torch.Tensor)]
    params = sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
    return params, counter.get_total_flops() // 2, [tuple(t.shape[1:]) for t in leaves]


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[1:], shape[0]) if len(shape) >= 2 else shape


def assert_exact(model: object, shape: tuple[int, ...], layout: str = "channels_last") -> Report:
    flat, report = capture(model, shape)
    params, macs, outputs = truth(model, shape)
    assert report.params == params
    assert report.macs == macs
    got = [o.shape for o in report.outputs] or [report.output_shape]
    assert got == [channels_last(s) if layout == "channels_last" else s for s in outputs]
    return report


class ShapeBranches(nn.Module):
    """Control flow on shapes and TensorFlow "same" padding computed from x.shape (timm's tf_* models)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.small = nn.Conv2d(8, 4, 1)
        self.large = nn.Conv2d(8, 16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h = max((math.ceil(height / 2) - 1) * 2 + 3 - height, 0)
        pad_w = max((math.ceil(width / 2) - 1) * 2 + 3 - width, 0)
        x = self.conv(F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2]))
        return self.large(x) if x.shape[-1] > 8 else self.small(x)


def test_control_flow_on_shapes_is_resolved_at_the_input() -> None:
    report = assert_exact(ShapeBranches(), (33, 33, 3))
    assert report.output_shape == (17, 17, 16)
    assert {"conv", "large"} <= {row.name for row in report.rows}
    assert "small" not in {row.name for row in report.rows}
    assert assert_exact(ShapeBranches(), (15, 15, 3)).output_shape == (8, 8, 4)


class CheckedBatchNorm(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a torch.nn subclass with an assert and F.batch_norm on its own parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.ndim == 4, f"expected 4-D input (got {x.ndim}D input)"
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        return F.relu(x)


class CheckedLinear(nn.Linear):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-1] == self.in_features
        return F.linear(x, self.weight, self.bias)


def test_nn_subclasses_with_asserts_are_one_layer_each() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), CheckedBatchNorm(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          CheckedLinear(8, 5))
    report = assert_exact(model, (12, 12, 3))
    rows = {row.name: row.op for row in report.rows}
    assert rows["1"] == "bn" and rows["4"] == "linear"


class OptionalMask(nn.Module):
    """timm's ViT blocks: forward(x, attn_mask=None)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)  # (N, L, C)
        q = k = v = self.proj(tokens)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)


def test_an_optional_second_argument_keeps_its_default() -> None:
    report = assert_exact(OptionalMask(), (4, 5, 8), layout="as_is")
    assert report.output_shape == (20, 8)
    assert [row.op for row in report.rows].count("attention") == 1


class TwoHeads(nn.Module):
    def __init__(self, as_dict: bool) -> None:
        super().__init__()
        self.as_dict = as_dict
        self.body = nn.Conv2d(3, 8, 3, padding=1)
        self.seg = nn.Conv2d(8, 2, 1)
        self.cls = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))

    def forward(self, x: torch.Tensor) -> object:
        features = self.body(x)
        if self.as_dict:
            return {"out": self.seg(features), "logits": self.cls(features)}
        return self.seg(features), self.cls(features)


@pytest.mark.parametrize(("as_dict", "names"), [(True, ["out", "logits"]), (False, ["0", "1"])])
def test_dict_and_tuple_outputs_become_named_outputs(as_dict: bool, names: list[str]) -> None:
    flat, _ = capture(TwoHeads(as_dict), (8, 8, 3))
    assert flat.outputs is not None and list(flat.outputs) == names
    assert list(flat.outputs.values()) == ["seg", "cls.2"]
    report = assert_exact(TwoHeads(as_dict), (8, 8, 3))
    assert [o.shape for o in report.outputs] == [(8, 8, 2), (4,)]


class AuxHead(nn.Module):
    """GoogLeNet's pattern: an auxiliary classifier the eval forward never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.aux = nn.Sequential(nn.Flatten(), nn.Linear(8 * 6 * 6, 10), nn.BatchNorm1d(10))
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> object:
        x = self.stem(x)
        logits = self.fc(x.mean((2, 3)))
        if self.training:
            return logits, self.aux(x)
        return logits


def test_parameters_the_forward_never_uses_are_counted_as_unused() -> None:
    model = AuxHead()
    model.train()  # the capture puts it in eval mode
    flat, report = capture(model, (8, 8, 3))
    assert not model.training
    assert flat.unused == {"aux.1": {"params": 8 * 6 * 6 * 10 + 10}, "aux.2": {"params": 20, "buffers": 20}}
    assert report.params == sum(p.numel() for p in model.parameters())
    assert report.unused_params == 8 * 6 * 6 * 10 + 10 + 20
    assert "eval mode" in flat.description


class TrainingDiffers(nn.Module):
    """Dropout and a training-only branch: the captured graph is the eval forward's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.drop = nn.Dropout(0.5)
        self.extra = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.conv(x))
        return self.extra(x) if self.training else x


def test_training_and_eval_differ_and_eval_is_captured() -> None:
    flat, report = capture(TrainingDiffers(), (6, 6, 3))
    assert report.output_shape == (4, 4, 4)
    assert [layer.op for layer in flat.layers] == ["conv"]
    assert flat.unused == {"extra": {"params": 20}}


class Tokens(nn.Module):
    """ConvNeXt's channels-last round trip and ViT's tokens: permutes, reshapes, a class token, heads."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 2, stride=2)
        self.norm = nn.LayerNorm(16)
        self.mlp = nn.Linear(16, 32)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 16))
        self.qkv = nn.Linear(16, 48)
        self.gamma = nn.Parameter(torch.ones(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x)
        y = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (N, C, H, W) again
        x = x + y * self.gamma[:, None, None]
        tokens = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x.flatten(2).transpose(1, 2)], dim=1)
        n, length, channels = tokens.shape
        q, k, v = self.qkv(tokens).reshape(n, length, 3, 4, channels // 4).permute(2, 0, 3, 1, 4).unbind(0)
        attention = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        out = (attention @ v).transpose(1, 2).reshape(n, length, channels)
        return self.mlp(out[:, 0])


def test_layout_is_followed_through_permutes_reshapes_and_heads() -> None:
    from convcalc.io.torch_verify import verify

    report = assert_exact(Tokens(), (8, 6, 3))
    assert report.output_shape == (32,)
    assert {"cls_token", "patch", "norm", "qkv", "mlp"} <= {row.name for row in report.rows}
    assert verify(report) == []


class Attention(nn.Module):
    """nn.MultiheadAttention on tokens made from a 1-D grid (N, E, L): self-attention, or cross-attention with keys
    and values of their own widths (``kdim``, ``vdim``), batch first or not, with or without an additive mask."""

    def __init__(self, batch_first: bool = True, cross: str = "", mask: bool = False, **options: object) -> None:
        super().__init__()
        kdim, vdim = (8, 8) if cross == "kv" else (8, 12) if cross == "k,v" else (16, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=batch_first, kdim=kdim, vdim=vdim, **options)
        self.key = nn.Linear(16, kdim) if cross else None
        self.value = nn.Linear(16, vdim) if cross == "k,v" else None
        self.mask = nn.Parameter(torch.zeros(6, 6)) if mask else None  # a learned additive bias
        self.need_weights = not batch_first  # the averaged weights, computed and left unused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2) if self.attn.batch_first else x.permute(2, 0, 1)  # (N, L, E) or (L, N, E)
        key = self.key(x) if self.key is not None else x
        value = self.value(x) if self.value is not None else key
        out = self.attn(x, key, value, attn_mask=self.mask, need_weights=self.need_weights)[0]
        return out if self.attn.batch_first else out.transpose(0, 1)


@pytest.mark.parametrize(("options", "inputs"), [
    ({}, ["input"]), ({"batch_first": False}, ["input"]), ({"cross": "kv"}, ["input", "key"]),
    ({"cross": "k,v"}, ["input", "key", "value"]), ({"bias": False, "add_bias_kv": True, "add_zero_attn": True}, ["input"]),
])
def test_multihead_attention_is_one_mha_layer_named_by_the_module(options: dict[str, object], inputs: list[str]) -> None:
    from convcalc.io.torch_verify import verify

    model = Attention(**options)  # type: ignore[arg-type]
    report = assert_exact(model, (6, 16), layout="tokens")
    rows = [row for row in report.rows if row.op == "mha"]
    assert [row.name for row in rows] == ["attn"]
    flat, _ = capture(model, (6, 16))
    layer = next(layer for layer in flat.layers if layer.op == "mha")
    assert [ref.split(".")[0] for ref in layer.inputs] == inputs
    assert layer.args["heads"] == 4
    assert verify(report) == []


def test_multihead_attention_with_a_mask_is_lowered_op_by_op() -> None:
    model = Attention(mask=True)
    _, report = capture(model, (6, 16))
    params, macs, _ = truth(model, (6, 16))
    assert (report.params, report.macs) == (params, macs)
    assert "mha" not in {row.op for row in report.rows}
    assert "attention" in {row.op for row in report.rows}


def test_channel_dims_translate_to_logical_axes() -> None:
    class Gate(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            weights = x.mean((2, 3), keepdim=True).softmax(dim=1)
            return torch.cat([x * weights, x[:, :2]], dim=1)

    flat, report = capture(Gate(), (5, 7, 4))
    args = {layer.op: layer.args for layer in flat.layers}
    assert args["mean"] == {"dims": [0, 1], "keepdim": True}
    assert args["softmax"] == {"dim": -1} or args["softmax"] == {"dim": 2}
    assert report.output_shape == (5, 7, 6)


def test_an_op_outside_the_vocabulary_is_one_line_naming_op_module_and_source_line() -> None:
    class Sorter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Sequential(nn.Conv2d(3, 4, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sort(self.inner(x), dim=1).values

    with pytest.raises(ConvCalcError) as raised:
        capture(Sorter(), (4, 4, 3))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("aten.sort in the model's forward at test_torch_capture.py:")
    assert "torch.sort(self.inner(x), dim=1)" in message


def test_control_flow_on_values_is_one_line() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(ConvCalcError, match="torch.export cannot capture model: ") as raised:
        capture(Branchy(), (4, 4, 3))
    assert "\n" not in str(raised.value)


# -- fused ops, subgraphs, masks, picks and stacks (timm's convnextv2, efficientvit, coatnet, efficientvim, crossvit,
# gcvit, levit) ---------------------------------------------------------------------------------------------------


class ResponseNorm(nn.Module):
    """timm's GlobalResponseNorm (convnextv2): ``x + addcmul(bias, weight, x * nx)`` on channels-last activations."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.weight = nn.Parameter(torch.rand(8))
        self.bias = nn.Parameter(torch.rand(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x).permute(0, 2, 3, 1)
        gx = x.norm(p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        x = x + torch.addcmul(self.bias.view(1, 1, 1, -1), self.weight.view(1, 1, 1, -1), x * nx, value=0.5)
        return x.permute(0, 3, 1, 2)


def test_addcmul_is_a_mul_and_an_add() -> None:
    flat, _ = capture(ResponseNorm(), (6, 6, 3))
    assert_exact(ResponseNorm(), (6, 6, 3))
    assert [layer.op for layer in flat.layers].count("mul") == 3  # x * nx, weight * (x * nx), value * that


class AutocastAttention(nn.Module):
    """efficientvit's LiteMLA: a linear attention under ``torch.autocast(enabled=False)`` (a higher-order op whose
    subgraph is lowered inline)."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x.flatten(2).transpose(1, 2)).relu().chunk(3, dim=-1)
        with torch.autocast(device_type="cpu", enabled=False):
            out = q.float() @ (k.float().transpose(-1, -2) @ v.float())
        return out


def test_an_autocast_region_is_lowered_inline() -> None:
    report = assert_exact(AutocastAttention(), (4, 5, 8), layout="natural")
    assert report.output_shape == (20, 8)


class BiasedAttention(nn.Module):
    """maxxvit's Attention2d: SDPA with a relative-position bias gathered from a table as its mask."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Conv2d(8, 24, 1)
        self.table = nn.Parameter(torch.rand(2, 7))
        self.register_buffer("index", torch.randint(0, 7, (16, 16)), persistent=False)
        self.proj = nn.Conv2d(8, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).view(1, 3, 2, 4, 16).unbind(1)
        bias = self.table[:, self.index]
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2),
                                             attn_mask=bias)
        return self.proj(out.transpose(-1, -2).reshape(1, 8, 4, 4))


def test_a_gathered_attention_mask_counts_its_table_once() -> None:
    flat, _ = capture(BiasedAttention(), (4, 4, 8))
    assert_exact(BiasedAttention(), (4, 4, 8))
    ops = {layer.op: layer for layer in flat.layers}
    assert ops["constant"].args == {"shape": [2, 16, 16], "buffer": False}
    assert len(ops["attention"].inputs) == 4


class PickedGates(nn.Module):
    """efficientvim: gates picked from a parameter (``sigmoid(alpha).view(2, -1, 1, 1)[k]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.rand(2, 4))
        self.conv = nn.Conv2d(4, 4, 3, padding=1, groups=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = torch.sigmoid(self.alpha).view(2, -1, 1, 1)
        x = x + alpha[0] * (self.conv(x) - x)
        return x + alpha[1] * x


def test_elements_picked_from_a_parameter_count_it_once() -> None:
    assert_exact(PickedGates(), (5, 5, 4))


class StackedHeads(nn.Module):
    """crossvit's head: the heads' logits stacked on a new first dim (before the batch) and averaged over it."""

    def __init__(self) -> None:
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(6, 3), nn.Linear(6, 3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).mean(-1)
        return torch.mean(torch.stack([head(tokens) for head in self.heads]), dim=0)


def test_a_stack_before_the_batch_is_not_over_the_batch() -> None:
    report = assert_exact(StackedHeads(), (2, 2, 6))
    assert report.output_shape == (3,)


class GlobalQuery(nn.Module):
    """gcvit's WindowAttentionGlobal: one image's query repeated for each of its windows (``repeat_interleave`` on
    the batch dim); levit's ``reshape_as``."""

    def __init__(self) -> None:
        super().__init__()
        self.kv = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = x.permute(0, 2, 3, 1).reshape(4, 4, 4)  # 4 windows of 4 tokens (2x2 grid of 2x2 windows)
        query = x.flatten(2).transpose(1, 2)[:, :4]  # (1, 4, 4): the batch dim repeated
        k, v = self.kv(windows).chunk(2, dim=-1)
        q = query.repeat_interleave(4, dim=0)
        attn = (q @ k.transpose(-2, -1)).softmax(-1) @ v
        return self.norm(attn.flatten(0, 1)).reshape_as(attn).reshape(1, 16, 4)


def test_repeat_interleave_of_the_batch_and_reshape_as() -> None:
    assert_exact(GlobalQuery(), (4, 4, 4), layout="natural")


class GridOffset(nn.Module):
    """gemma4_vit / deepseek_vit: a position grid from ``meshgrid`` (an op with several constant outputs) stacked."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ys, xs = torch.meshgrid(torch.arange(x.shape[2]), torch.arange(x.shape[3]), indexing="ij")
        grid = torch.stack([ys, xs]).sum(0).float()
        return self.conv(x + grid)


def test_constants_with_several_outputs_and_their_stack() -> None:
    assert_exact(GridOffset(), (5, 6, 3))


class CroppedStandardized(nn.Module):
    """NASNet's ``ZeroPad2d((-1, 1, -1, 1))`` (a crop, then a pad) and timm's ScaledStdConv2d (the weight normalised
    by ``F.batch_norm`` and scaled by a gain parameter: a weight computed from two parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((-1, 1, -1, 1))
        self.weight = nn.Parameter(torch.rand(4, 3, 3, 3))
        self.gain = nn.Parameter(torch.ones(4, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = F.batch_norm(self.weight.reshape(1, 4, -1), None, None, weight=self.gain.view(-1), training=True,
                              momentum=0.0, eps=1e-6).reshape_as(self.weight)
        return F.conv2d(self.pad(x), weight)


def test_negative_padding_and_a_weight_computed_from_two_parameters() -> None:
    flat, _ = capture(CroppedStandardized(), (7, 7, 3))
    assert_exact(CroppedStandardized(), (7, 7, 3))
    ops = [layer.op for layer in flat.layers]
    assert ops.index("pad") == ops.index("crop") + 1
    assert [layer.name for layer in flat.layers if layer.op == "param"] == ["gain"]  # the weight: the conv's


class UnfoldThenLinear(nn.Module):
    """``nn.Unfold`` (ATen's im2col) then a linear over each block: TNT's and VOLO's pixel embedding pattern."""

    def __init__(self) -> None:
        super().__init__()
        self.unfold = nn.Unfold(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2)
        self.proj = nn.Linear(3 * 3 * 2, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.unfold(x).transpose(1, 2))


def test_unfold_is_convcalc_s_unfold() -> None:
    flat, _ = capture(UnfoldThenLinear(), (8, 9, 3))
    assert [layer.op for layer in flat.layers if layer.name == "unfold"] == ["unfold"]
    # blocks: H (8 + 2 - 3) // 2 + 1 = 4, W (9 + 2 - 2*(2-1) - 1) // 2 + 1 = 5: 20 blocks of 18, then 5 features each
    report = assert_exact(UnfoldThenLinear(), (8, 9, 3), layout="tokens")  # (N, L, C): already channels last
    assert report.output_shape == (20, 5)


class ZeroPadded(nn.Module):
    """Swin3D's window padding, computed from the input's size: 0 on every side at this input, channels included."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = (4 - x.shape[-1] % 4) % 4  # 0 for a width of 8
        return self.conv(F.pad(x, (0, pad, 0, pad, 0, 0)))


def test_a_padding_of_zeros_is_no_layer() -> None:
    flat, _ = capture(ZeroPadded(), (8, 8, 3))
    assert [layer.op for layer in flat.layers] == ["conv"]
    assert_exact(ZeroPadded(), (8, 8, 3))
