"""ATen ops written as the vocabulary's simpler ops (convcalc.frontends.torch_aten_extra): ``repeat`` (xcit's
position encoding), ``tensor_split`` (torchvision's MViT), ``col2im`` (volo's outlook attention, ``F.fold``). Each
small module is checked against PyTorch itself (params, FlopCounterMode MACs, output shape) and, where the values
can differ, by running the written spec's layers in PyTorch (``verify``)."""

from __future__ import annotations

import pytest

from convcalc.errors import ConvCalcError

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")  # before the helpers below, whose module needs torch too

from tests.frontends.test_torch_capture import assert_exact, capture  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def exported(report: object) -> nn.Module:
    """The spec's module as ``convcalc export --to torch`` writes it, built (fresh weights), to run on values."""
    from convcalc.io.torch_export import export_torch
    from convcalc.io.torch_names import class_name

    namespace: dict[str, object] = {}
    exec(compile(export_torch(report), "<export>", "exec"), namespace)  # type: ignore[arg-type]
    return namespace[class_name(report.name)]()  # type: ignore[attr-defined,operator,no-any-return]


class RepeatedPosition(nn.Module):
    """xcit's PositionalEncodingFourier: a position map computed from constants, ``repeat(B, 1, 1, 1)`` for the
    batch, then a 1x1 conv; and an activation tiled along its channels and its width."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(6, 4, 1)
        self.mix = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        grid = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w).expand(1, 6, h, w)
        x = x + self.proj(grid.repeat(b, 1, 1, 1))
        tiled = x.repeat(1, 2, 1, 3)  # (1, 8, h, 3w): whole copies, channels then columns
        return self.mix(tiled)


def test_repeat_tiles_whole_copies() -> None:
    report = assert_exact(RepeatedPosition(), (3, 5, 4))
    assert report.output_shape == (3, 15, 4)


class BatchCopies(nn.Module):
    """``tokens.repeat(3, 1, 1)``: copies of the one image along the batch dim, which becomes an axis of its own (the
    sum over it is a sum over the copies, not over the batch)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.flatten(2).transpose(1, 2).repeat(3, 1, 1)).sum(0)


def test_repeat_of_the_batch_dim_makes_it_an_axis() -> None:
    from tests.frontends.test_torch_capture import truth

    _, report = capture(BatchCopies(), (2, 3, 4))
    params, macs, _ = truth(BatchCopies(), (2, 3, 4))
    assert (report.params, report.macs) == (params, macs)
    assert report.output_shape == (6, 4)  # PyTorch's (6, 4): the sum took the copies' dim, there is no batch left


class Tiles(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, 2, 1, 3)


def test_repeat_keeps_pytorchs_order_of_copies() -> None:
    """The written spec, exported back to PyTorch and run on distinct values, gives ``x.repeat``'s values: whole
    copies in a row (``[a b c a b c]``), not each element repeated (``[a a b b c c]``)."""
    _, report = capture(Tiles(), (2, 3, 2))
    assert report.output_shape == (4, 2, 9)  # in PyTorch's order: the repeat's output is not a feature map
    model = exported(report)
    x = torch.arange(12.0).reshape(1, 2, 2, 3)
    assert torch.equal(model(x).movedim(1, -1), x.repeat(1, 2, 1, 3))


class ClassTokenPool(nn.Module):
    """torchvision's MViT Pool: the class token split off with ``tensor_split(x, indices=(1,), dim=2)``, the rest
    pooled as a grid, the two joined again."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)
        self.norm = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([x.flatten(2).mean(-1, keepdim=True), x.flatten(2)], dim=2)  # (1, 4, 1 + h*w)
        tokens = tokens.transpose(1, 2).unsqueeze(1)  # (1, 1, 1 + h*w, 4): (B, heads, tokens, C) as MViT's
        class_token, rest = torch.tensor_split(tokens, indices=(1,), dim=2)
        grid = rest.reshape(1, 6, 6, 4).permute(0, 3, 1, 2)
        pooled = self.pool(grid).flatten(2).transpose(1, 2).unsqueeze(1)
        return self.norm(torch.cat((class_token, pooled), dim=2))


def test_tensor_split_is_a_split_at_its_pieces_sizes() -> None:
    flat, _ = capture(ClassTokenPool(), (6, 6, 4))
    report = assert_exact(ClassTokenPool(), (6, 6, 4), layout="natural")
    assert report.output_shape == (1, 10, 4)
    split = next(layer for layer in flat.layers if layer.op == "split")
    assert split.args["sizes"] == [1, 36]


class Sections(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b, c = torch.tensor_split(x, 3, dim=1)  # 7 channels: 3, 2, 2
        return torch.cat([c, a, b], dim=1)


def test_tensor_split_into_sections() -> None:
    flat, report = capture(Sections(), (2, 2, 7))
    assert next(layer for layer in flat.layers if layer.op == "split").args["sizes"] == [3, 2, 2]
    assert report.output_shape == (2, 2, 7)


class OutlookFold(nn.Module):
    """volo's OutlookAttention: values unfolded into 3x3 blocks, weighted, folded back with ``F.fold`` (col2im)."""

    def __init__(self) -> None:
        super().__init__()
        self.v = nn.Linear(4, 4)
        self.proj = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        v = self.v(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        blocks = F.unfold(v, kernel_size=3, padding=1, stride=2)  # (1, 4*9, L)
        x = F.fold(blocks * 0.5, output_size=(h, w), kernel_size=3, padding=1, stride=2)
        return self.proj(x.permute(0, 2, 3, 1))


def test_col2im_is_fold() -> None:
    flat, _ = capture(OutlookFold(), (6, 6, 4))
    report = assert_exact(OutlookFold(), (6, 6, 4), layout="natural")
    assert report.output_shape == (6, 6, 4)
    fold = next(layer for layer in flat.layers if layer.op == "fold")
    assert fold.args == {"size": 6, "k": 3, "p": 1, "s": 2}


class TiledParameter(nn.Module):
    """A parameter tiled: a constant computed from it, the table counted once (as a ``param`` layer)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.rand(1, 2, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table.repeat(1, 2, 1, 1)


def test_a_repeated_parameter_is_counted_once() -> None:
    flat, _ = capture(TiledParameter(), (2, 2, 4))
    assert_exact(TiledParameter(), (2, 2, 4))
    assert [layer.op for layer in flat.layers].count("param") == 1


class BatchTokens(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor_split(x, (1,), dim=0)[1]


def test_tensor_split_of_the_batch_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match="tensor_split of the batch dim"):
        capture(BatchTokens(), (2, 2, 4))


# -- writes into a slice of an activation (torchvision's MViT, timm's MViTv2: ``attn[:, :, 1:, 1:] += rel_pos``) ----


class RelativeBias(nn.Module):
    """MViT's ``_add_rel_pos``: a term added in place to the attention scores, all but the class token's row and
    column; the scores are read again afterwards (softmax)."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(4, 12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([x.flatten(2).mean(-1, keepdim=True), x.flatten(2)], dim=2).transpose(1, 2)
        q, k, v = self.qkv(tokens).unsqueeze(1).chunk(3, dim=-1)  # (1, 1, 1 + h*w, 4) each
        attn = q @ k.transpose(-1, -2)
        rel = q[:, :, 1:, :2] @ k[:, :, 1:, :2].transpose(-1, -2)
        attn[:, :, 1:, 1:] += rel
        return attn.softmax(-1) @ v


def test_a_write_into_a_slice_gives_the_tensor_a_new_value() -> None:
    flat, _ = capture(RelativeBias(), (2, 3, 4))
    report = assert_exact(RelativeBias(), (2, 3, 4), layout="natural")
    assert report.output_shape == (1, 7, 4)
    softmax = next(layer for layer in flat.layers if layer.op == "softmax")
    assert flat.layers[[layer.name for layer in flat.layers].index(softmax.inputs[0])].op == "concat"


class ClassRowWrite(nn.Module):
    """``x[:, 1:3] = y`` (an assignment, not ``+=``) on a tensor read afterwards, then values checked."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x[:, 4:6] * 2
        x = x * 1
        x[:, 1:3] = y
        return x + 1


def test_a_written_slice_has_the_written_values() -> None:
    """The spec, exported back to PyTorch, computes the model's values: the slice replaced, the rest kept."""
    flat, report = capture(ClassRowWrite(), (2, 2, 6))
    assert [layer.op for layer in flat.layers] == ["slice", "mul", "mul", "split", "concat", "add"]  # no view kept
    model = exported(report)
    x = torch.arange(24.0).reshape(1, 6, 2, 2)
    assert torch.equal(model(x), ClassRowWrite()(x.clone()))


class SteppedWrite(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * 1
        x[:, ::2] = x[:, ::2] * 2
        return x


def test_a_write_into_a_stepped_slice_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match=r"aten.copy_ .*slice \(with step 1\) of an activation"):
        capture(SteppedWrite(), (2, 2, 4))


class ConstantWrite(nn.Module):
    """ConViT's relative indices: a table built in forward by writes into a zero constant (``t[:, :, :, 2] = ...``,
    ``t[:, 1:] = ...``): writes into constants are computed like any op on constants, not layers."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        table = torch.zeros(1, 4, 4, 3)
        table[:, :, :, 2] = torch.arange(4.0).unsqueeze(0)
        table[:, 1:] = 1.0 + table[:, 1:]
        return x.permute(0, 2, 3, 1) + self.proj(table)


def test_a_write_into_a_constant_is_a_constant() -> None:
    flat, _ = capture(ConstantWrite(), (4, 4, 4))
    assert_exact(ConstantWrite(), (4, 4, 4), layout="natural")
    assert not {"split", "concat"} & {layer.op for layer in flat.layers}


class AuxTokenHead(nn.Module):
    """volo's head: the class token's logits plus half the maximum over the other tokens' (``max(1)[0]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(4, 3)
        self.aux_head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)
        return self.head(tokens[:, 0]) + 0.5 * self.aux_head(tokens[:, 1:]).max(1)[0] - tokens.min(-1).values[:, :3]


def test_max_over_a_dim_is_amax() -> None:
    flat, _ = capture(AuxTokenHead(), (2, 3, 4))
    assert_exact(AuxTokenHead(), (2, 3, 4), layout="natural")
    assert {"amax", "amin"} <= {layer.op for layer in flat.layers}


class ArgMax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2) * x.flatten(2).max(-1, keepdim=True)[1]


def test_max_indices_read_are_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match=r"aten.mul .*indices, such as an argmax's, have no convcalc op"):
        capture(ArgMax(), (2, 2, 4))


# -- Tensor.unfold: windows along one dim (timm's HaloNet: blocks with their halo) ---------------------------------


class HaloBlocks(nn.Module):
    """HaloNet's key/value windows: padded by the halo, ``unfold`` along H then W (overlapping windows), reshaped to
    (blocks, window tokens, channels), attended by the block queries (``unfold`` with step = size: a reshape)."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Conv2d(4, 4, 1)
        self.kv = nn.Conv2d(4, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.q(x).unfold(2, 2, 2).unfold(3, 2, 2).reshape(1, 4, 4, 4).permute(0, 2, 3, 1)  # (1, 4 blocks, 4, 4)
        kv = F.pad(self.kv(x), [1, 1, 1, 1]).unfold(2, 4, 2).unfold(3, 4, 2)  # (1, 8, 2, 2, 4, 4)
        k, v = kv.reshape(1, 8, 4, 16).permute(0, 2, 3, 1).split(4, dim=-1)  # (1, 4 blocks, 16, 4) each
        return (q @ k.transpose(-1, -2)).softmax(-1) @ v


def test_unfold_along_a_dim_is_exact() -> None:
    flat, _ = capture(HaloBlocks(), (4, 4, 4))
    report = assert_exact(HaloBlocks(), (4, 4, 4), layout="natural")
    assert report.output_shape == (4, 4, 4)
    assert [layer.op for layer in flat.layers].count("slice") == 8  # 4 offsets along H, 4 along W


class Windows(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unfold(2, 3, 2)  # (1, C, 3 windows, W, 3)


def test_unfold_windows_have_pytorchs_values() -> None:
    """The spec, exported back to PyTorch and run on distinct values, gives ``x.unfold``'s windows."""
    _, report = capture(Windows(), (7, 2, 3))
    model = exported(report)
    x = torch.arange(42.0).reshape(1, 3, 7, 2)
    assert report.output_shape == (3, 3, 2, 3)  # convcalc's order: offset, window, W, C (channels last)
    got = model(x)  # (N, C, offset, window, W): the export puts the last logical axis first
    assert torch.equal(got.permute(0, 1, 3, 4, 2), x.unfold(2, 3, 2))  # PyTorch's (N, C, window, W, offset)


class WholeWrite(nn.Module):
    """timm's MViTv2 without a class token: ``attn[:, :, 0:, 0:] = (...)`` writes the whole tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attn = x.flatten(2) * 1
        attn[:, :, 0:] = attn[:, :, 0:] * 3 + 1
        return attn.softmax(-1)


def test_a_write_into_the_whole_tensor_replaces_it() -> None:
    flat, _ = capture(WholeWrite(), (2, 2, 4))
    assert_exact(WholeWrite(), (2, 2, 4), layout="natural")
    softmax = next(layer for layer in flat.layers if layer.op == "softmax")
    assert softmax.inputs[0].startswith("add")


# -- convs and pooling over windows or heads merged into the batch dim (Hiera, MViT, TNT) -------------------------


class MergedWindows(nn.Module):
    """Hiera's query pooling and MViT's pooled keys: windows (or heads) merged into the batch dim, then a max pool,
    a depthwise conv (MViT's, grouped per channel) and an avg pool run on every window alike."""

    def __init__(self) -> None:
        super().__init__()
        self.pool_q = nn.MaxPool2d(2, 2)
        self.pool_k = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)
        self.pool_v = nn.AvgPool2d(3, 2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = x.reshape(1, 4, 2, 4, 2, 4).permute(0, 2, 4, 1, 3, 5).reshape(4, 4, 4, 4)  # 2x2 windows of 4x4
        q, k, v = self.pool_q(windows), self.pool_k(windows), self.pool_v(windows)
        return (q + k + v).reshape(1, 4, 4, 2, 2)


def test_window_ops_over_merged_images_are_exact() -> None:
    flat, _ = capture(MergedWindows(), (8, 8, 4))
    report = assert_exact(MergedWindows(), (8, 8, 4))  # (1, windows, C, 2, 2) read channels last
    assert report.output_shape == (4, 2, 2, 4)
    conv = next(layer for layer in flat.layers if layer.op == "conv")
    assert conv.args["k"] == [1, 3, 3] and conv.args["s"] == [1, 2, 2] and conv.args["p"] == [0, 1, 1]


def test_merged_window_ops_have_pytorchs_values() -> None:
    """The spec, exported back to PyTorch (the merged images a 3-D grid's first axis), computes the module's values
    with the module's own weights."""
    module = MergedWindows().eval()
    _, report = capture(module, (8, 8, 4))
    model = exported(report)
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv3d))
    with torch.no_grad():
        conv.weight.copy_(module.pool_k.weight.unsqueeze(2))
    x = torch.randn(1, 4, 8, 8)
    got, want = model(x), module(x)  # the export's (N, C, windows, 2, 2); the module's (N, windows, C, 2, 2)
    assert torch.allclose(got.transpose(1, 2), want, atol=1e-6)


class MergedNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.reshape(2, 4, 4, 2))


def test_a_norm_over_merged_images_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match="groupnorm over 2 windows or heads merged into the batch dim"):
        capture(MergedNorm(), (4, 4, 4))


class ClassPosition(nn.Module):
    """torchvision's MViT PositionalEncoding: a (1, C) class position concatenated along dim 0 with a table computed
    from two parameters (a leading 1 that is the parameter's own dim, not a batch), then added to the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.class_pos = nn.Parameter(torch.rand(1, 4))
        self.temporal = nn.Parameter(torch.rand(2, 4))
        self.spatial = nn.Parameter(torch.rand(3, 4))
        self.class_token = nn.Parameter(torch.rand(1, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)  # (1, 6, 4): 2 frames of 3 positions
        tokens = torch.cat((self.class_token.expand(1, -1).unsqueeze(1), tokens), dim=1)
        table = torch.repeat_interleave(self.temporal, 3, dim=0)
        table.add_(self.spatial.unsqueeze(0).expand(2, -1, -1).reshape(-1, 4))
        return tokens + torch.cat((self.class_pos, table), dim=0).unsqueeze(0)


def test_parameters_concatenated_along_their_own_leading_dim() -> None:
    report = assert_exact(ClassPosition(), (2, 3, 4), layout="natural")
    assert report.output_shape == (7, 4)


# -- an activation indexed by a constant list of positions (timm's CSATv2: ``x[:, :, zigzag]``) -------------------


class Zigzag(nn.Module):
    """CSATv2's DCT stem: the coefficients reordered by a constant list (``x[:, :, perm]``), channels picked with
    ``index_select`` (negative positions allowed in indexing), and a parameter table indexed likewise."""

    def __init__(self) -> None:
        super().__init__()
        self.permutation = [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15]
        self.proj = nn.Linear(3, 5)
        self.table = nn.Parameter(torch.rand(4, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2)[:, :, self.permutation]  # (1, C, 16)
        picked = torch.index_select(tokens, 1, torch.tensor([2, 0, 1]))
        bias = torch.index_select(self.table, 0, torch.tensor([3, 1]))  # (2, 5): the table counted once
        return self.proj(picked[:, :, [-1, 0]].transpose(1, 2)) + bias


def test_an_activation_indexed_by_a_constant_list_is_index_select() -> None:
    flat, _ = capture(Zigzag(), (4, 4, 3))
    assert_exact(Zigzag(), (4, 4, 3), layout="natural")
    selects = [layer.args for layer in flat.layers if layer.op == "index_select"]
    assert selects[0] == {"index": Zigzag().permutation, "dim": 0}  # PyTorch's dim 2 is convcalc's axis 0 here
    assert {"index": [15, 0], "dim": 0} in selects  # -1 counted from the end


class ZigzagValues(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2)[:, :, Zigzag().permutation]
        return torch.index_select(tokens, 1, torch.tensor([2, 0, 1]))[:, :, [-1, 0, 5]]


def test_index_select_keeps_pytorchs_values() -> None:
    """The spec, exported back to PyTorch, picks the same values in the same order."""
    _, report = capture(ZigzagValues(), (4, 4, 3))
    x = torch.randn(1, 3, 4, 4)
    assert torch.equal(exported(report)(x), ZigzagValues()(x))


class GatheredByActivation(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = x.flatten(2).argmax(-1)[0]  # positions computed from the input
        return x.flatten(2)[:, :, index]


def test_indexing_by_computed_positions_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match="aten.(argmax|index)"):
        capture(GatheredByActivation(), (2, 2, 3))


class OneHotPositions(nn.Module):
    """gemma4_vit's position embeddings: a one-hot constant of the grid positions, (1, 2, N, P) with the batch's 1
    first, times a (2, P, D) table, summed over the 2 axes and added to the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.rand(2, 5, 4))
        self.proj = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.proj(x.flatten(2).transpose(1, 2))  # (1, 6, 4)
        ys, xs = torch.meshgrid(torch.arange(2), torch.arange(3), indexing="ij")
        positions = torch.stack([xs.flatten(), ys.flatten()], dim=-1).unsqueeze(0)  # (1, 6, 2)
        one_hot = F.one_hot(positions, num_classes=5).permute(0, 2, 1, 3).to(self.table)  # (1, 2, 6, 5)
        return tokens + (one_hot @ self.table).sum(dim=1)


def test_a_product_of_constants_and_parameters_keeps_the_batch_out() -> None:
    report = assert_exact(OneHotPositions(), (2, 3, 3), layout="natural")
    assert report.output_shape == (6, 4)


class BatchProduct(nn.Module):
    """CSATv2's scalar attention: ``q @ k.transpose(-1, -2)`` of (B, N) tensors, a (B, B) product over the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.qk = nn.Linear(1, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self.qk(x.flatten(2).transpose(1, 2)).unbind(-1)  # (1, N) each
        return (q @ k.transpose(-1, -2)).softmax(-1) @ q


def test_a_product_along_the_batch_dim_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError, match=r"aten.matmul .*a product along the batch dim"):
        capture(BatchProduct(), (2, 3, 1))


def test_a_network_that_would_not_load_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last check of a capture: the network loads and analyses, or nothing is written (one line, the layer)."""
    import convcalc.graph.analysis as analysis
    from convcalc.errors import SpecError

    def failing(graph: object) -> object:
        raise SpecError("a shape no op takes", "model.yaml", 0, "proj")

    monkeypatch.setattr(analysis, "walk", failing)
    with pytest.raises(ConvCalcError, match=r"model: layer 'proj' \(in 'the model'\): a shape no op takes: not imported"):
        capture(TiledValuesModel(), (2, 2, 3))


class TiledValuesModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.permute(0, 2, 3, 1))


class CombinedEmbeddings(nn.Module):
    """Hiera's position embedding: a table interpolated to the grid plus a window table tiled over it, computed from
    two parameters only (a constant of the forward): both counted by ``param`` layers, neither listed as unused."""

    def __init__(self) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.rand(1, 4, 3, 3))
        self.pos_embed_window = nn.Parameter(torch.rand(1, 4, 2, 2))
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos = F.interpolate(self.pos_embed, size=(4, 4), mode="bicubic") + self.pos_embed_window.tile(1, 1, 2, 2)
        return self.conv(x) + pos


def test_parameters_combined_into_a_constant_are_counted_not_unused() -> None:
    flat, _ = capture(CombinedEmbeddings(), (4, 4, 3))
    assert_exact(CombinedEmbeddings(), (4, 4, 3))
    assert not flat.unused
    assert {"pos_embed", "pos_embed_window"} <= {layer.name for layer in flat.layers if layer.op == "param"}


class SpareParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spare = nn.Parameter(torch.rand(5))
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_an_unused_parameter_of_the_model_itself_is_listed_by_its_name() -> None:
    flat, report = capture(SpareParameter(), (4, 4, 3))
    assert flat.unused == {"spare": {"params": 5}}
    from convcalc.report.cells import unused_parts

    assert unused_parts(report) == [["Unused by forward, in Params: 5: spare (5)"]]
