"""An ONNX file read without its weights: the protobuf wire format walked by reading positions of the file, every initializer's
payload (``raw_data``, ``float_data``, ...) dropped unless it is small, so that reading a 100 MB model touches a few
hundred kilobytes of it and never holds the weights' bytes.

Wire format (protobuf): a field is a varint tag ``number << 3 | wire type`` then its value: a varint (type 0), 8
bytes (1), a varint length and that many bytes (2), or 4 bytes (5). ``ModelProto.graph`` is field 7,
``GraphProto.initializer`` field 5; a ``TensorProto`` keeps ``dims`` (1), ``data_type`` (2) and ``name`` (8), and
holds its values in fields 4-7 and 9-11. A dropped payload leaves the tensor's dims and type, which is all that shape
inference and the parameter count read.
"""

from __future__ import annotations

import os
from typing import Any

from convcalc.errors import SpecError

MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
TENSOR_PAYLOAD = frozenset({4, 5, 6, 7, 9, 10, 11})  # float, int32, string, int64, raw, double, uint64 data
KEPT_PAYLOAD_BYTES = 4096  # shapes, axes, scales, small constants: what folding and data propagation read


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: Any, position: int, end: int) -> tuple[int, int]:
    """A base-128 varint at ``position``: (value, position after it)."""
    value = shift = 0
    while True:
        if position >= end or shift > 63:
            raise WireError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def fields(data: Any, start: int, end: int) -> Any:
    """Every field of the message in ``data[start:end]``: (number, wire type, field start, value start, value end)."""
    position = start
    while position < end:
        tag, value_start = read_varint(data, position, end)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, value_end = read_varint(data, value_start, end)
        elif wire == 1:
            value_end = value_start + 8
        elif wire == 2:
            length, value_start = read_varint(data, value_start, end)
            value_end = value_start + length
        elif wire == 5:
            value_end = value_start + 4
        else:
            raise WireError(f"wire type {wire}")
        if value_end > end:
            raise WireError("field past the end")
        yield number, wire, position, value_start, value_end
        position = value_end


def length_field(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def tensor_without_payload(data: Any, start: int, end: int) -> bytes:
    """A ``TensorProto`` with its values dropped when they are larger than ``KEPT_PAYLOAD_BYTES``."""
    items = list(fields(data, start, end))
    payload = sum(value_end - value_start for number, _, _, value_start, value_end in items if number in TENSOR_PAYLOAD)
    if payload <= KEPT_PAYLOAD_BYTES:
        return bytes(data[start:end])
    return b"".join(bytes(data[first:value_end]) for number, _, first, _, value_end in items if number not in TENSOR_PAYLOAD)


def graph_without_payloads(data: Any, start: int, end: int) -> bytes:
    parts = []
    for number, wire, first, value_start, value_end in fields(data, start, end):
        if number == GRAPH_INITIALIZER and wire == 2:
            parts.append(length_field(number, tensor_without_payload(data, value_start, value_end)))
        else:
            parts.append(bytes(data[first:value_end]))
    return b"".join(parts)


def model_without_payloads(data: Any) -> bytes:
    """The serialized ``ModelProto`` in ``data`` with its graph's large initializer payloads dropped."""
    parts = []
    for number, wire, first, value_start, value_end in fields(data, 0, len(data)):
        if number == MODEL_GRAPH and wire == 2:
            parts.append(length_field(number, graph_without_payloads(data, value_start, value_end)))
        else:
            parts.append(bytes(data[first:value_end]))
    return b"".join(parts)


class FileBytes:
    """A file read as bytes by position (``os.pread``) without holding it: what the wire walk indexes, a small block
    cached; only the bytes asked for are read (memory stays far below the file's size, unlike a memory map, whose
    pages count once touched)."""

    BLOCK = 256

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.size = os.fstat(descriptor).st_size
        self.start, self.block = -1, b""

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return os.pread(self.descriptor, index.stop - index.start, index.start)
        if not self.start <= index < self.start + len(self.block):
            self.start, self.block = index, os.pread(self.descriptor, self.BLOCK, index)
            if not self.block:
                raise WireError("truncated file")
        return self.block[index - self.start]


def load_model(path: str) -> Any:
    """The file's ``onnx.ModelProto`` with the weights' values left out (their dims and types kept); external data
    is never read (as ``onnx.load(path, load_external_data=False)``)."""
    import onnx

    try:
        with open(path, "rb") as handle:
            stripped = model_without_payloads(FileBytes(handle.fileno()))
    except (WireError, ValueError) as error:
        raise SpecError(f"not a readable ONNX model: {error}", path) from None
    except OSError as error:
        raise SpecError(f"cannot read the file: {error.strerror or error}", path) from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(stripped)
    except Exception as error:  # protobuf's DecodeError
        raise SpecError(f"not a readable ONNX model: {error}", path) from None
    return model
