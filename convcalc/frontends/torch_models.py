"""What ``convcalc import`` imports: a target (``torchvision:resnet50``, ``timm:convnext_tiny``,
``path/to/file.py:callable``, ``package.module:callable``) as an nn.Module, its default input, and the import itself.

torchvision and timm models are built without weights (``weights=None``, ``weights_backbone=None``,
``pretrained=False``). The default input is the library's own: timm's ``pretrained_cfg["input_size"]``, torchvision's
weights' transforms (``crop_size``, or the ``resize_size`` of segmentation); elsewhere ``--input`` is required.
Shapes are channels last: timm's ``(3, 224, 224)`` is ``224x224x3``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any

from convcalc.core.notation import Shape, dim_names, format_shape
from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork
from convcalc.frontends.torch_capture import capture, require_torch

LIBRARIES = ("torchvision", "timm")


def build_library_model(library: str, name: str) -> Any:
    """A torchvision or timm model by name, without weights."""
    try:
        if library == "timm":
            import timm

            if name not in timm.list_models():
                raise ConvCalcError(f"timm has no model {name!r} (timm {timm.__version__})", "target")
            return timm.create_model(name, pretrained=False)
        import torchvision

        try:
            builder = torchvision.models.get_model_builder(name)
        except ValueError:
            raise ConvCalcError(f"torchvision has no model {name!r} (torchvision {torchvision.__version__})",
                                "target") from None
        options: dict[str, Any] = {"weights": None}
        if "weights_backbone" in inspect.signature(builder).parameters:
            options["weights_backbone"] = None
        return builder(**options)
    except ImportError:
        raise ConvCalcError(f"{library}:{name} needs {library}: pip install 'convcalc[vision]'", "target") from None


def load_file_callable(location: str, attribute: str) -> Any:
    try:
        if location.endswith(".py") or "/" in location:
            path = Path(location)
            if not path.is_file():
                raise ConvCalcError(f"no such file: {location}", "target")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(path.stem, module)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(location)
    except ConvCalcError:
        raise
    except Exception as error:  # the user's code failed to import: say so in one line
        raise ConvCalcError(f"cannot import {location}: {type(error).__name__}: {error}", "target") from None
    factory = getattr(module, attribute, None)
    if factory is None:
        raise ConvCalcError(f"{location} has no attribute {attribute!r}", "target")
    return factory


def load_target(target: str) -> Any:
    """The nn.Module a target names (a callable is called without arguments)."""
    location, _, attribute = target.rpartition(":")
    if not location or not attribute:
        raise ConvCalcError(
            "expected torchvision:NAME, timm:NAME, path/to/file.py:callable or package.module:callable, "
            f"got {target!r}",
            "target")
    torch = require_torch()
    if location in LIBRARIES:
        model = build_library_model(location, attribute)
    else:
        factory = load_file_callable(location, attribute)
        try:
            model = factory if isinstance(factory, torch.nn.Module) else factory()
        except Exception as error:
            raise ConvCalcError(f"{target} failed: {type(error).__name__}: {error}", "target") from None
    if not isinstance(model, torch.nn.Module):
        raise ConvCalcError(f"{target} returned {type(model).__name__}, not a torch.nn.Module", "target")
    return model


def channels_last(size: Any) -> Shape:
    """PyTorch's ``(C, *grid)`` as convcalc's ``(*grid, C)``."""
    size = tuple(int(s) for s in size)
    return (*size[1:], size[0])


def torchvision_input(name: str) -> Shape | None:
    """The input size torchvision's weights' transforms say (crop, else resize; 3 channels); None for video and
    models whose transforms give none."""
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name)
        transforms = list(weights)[0].transforms()
    except Exception:
        return None
    if type(transforms).__name__.startswith("Video"):
        return None
    size = getattr(transforms, "crop_size", None) or getattr(transforms, "resize_size", None)
    if not size:
        return None
    size = list(size) * (2 if len(size) == 1 else 1)
    return (size[0], size[1], 3)


def video_hint(name: str) -> str | None:
    """For a torchvision video model, the input to give: frames x crop x crop x 3 (the weights' crop size, and their
    minimum clip length when over 16, else 16 frames); None for other models."""
    import torchvision

    try:
        weights = list(torchvision.models.get_model_weights(name))[0]
        transforms = weights.transforms()
    except Exception:
        return None
    if not type(transforms).__name__.startswith("Video"):
        return None
    crop = list(getattr(transforms, "crop_size", None) or [224])
    height, width = (crop * 2)[:2]
    frames = max(16, int(weights.meta.get("min_temporal_size") or 1))
    return f"frames x H x W x C, e.g. {frames}x{height}x{width}x3"


def default_input(target: str, model: Any) -> Shape | None:
    """The model's native input where its library says it, channels last; else None."""
    library, _, name = target.rpartition(":")
    config = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(config, dict) and config.get("input_size"):
        return channels_last(config["input_size"])
    if library == "torchvision":
        size = getattr(model, "image_size", None)  # the model built without weights fixes it (ViT: 224, not
        if isinstance(size, int) and not isinstance(size, bool):  # the 518 of vit_h_14's first weights)
            return (size, size, 3)
        return torchvision_input(name)
    return None


def spatial_rank(model: Any) -> tuple[int, str] | None:
    """The number of spatial dims the model's first N-d torch.nn layer takes (Conv2d: 2), with that layer's name."""
    for path, module in model.named_modules():
        kind = type(module)
        found = re.search(r"([123])d$", kind.__name__)
        if found and kind.__module__.startswith("torch.nn") and "Norm" not in kind.__name__:
            return int(found.group(1)), f"{path or 'the model'} ({kind.__name__})"
    return None


def check_input_rank(model: Any, input_shape: Shape) -> None:
    """``--input 224x224`` for a model of Conv2d layers is an error, not a 1-D spec with the wrong counts."""
    found = spatial_rank(model)
    if found is None:
        return
    rank, layer = found
    if len(input_shape) != rank + 1:
        expected = "x".join((*dim_names(rank), "C"))
        raise ConvCalcError(
            f"{format_shape(input_shape)} has {len(input_shape)} dims, but {layer} takes {rank} spatial dims and the "
            f"channels: {expected}, channels last", "input")


def import_model(target: str, input_shape: Shape | None, name: str | None = None) -> FlatNetwork:
    """Load the target, pick its input, capture it."""
    model = load_target(target)
    if input_shape is None:
        input_shape = default_input(target, model)
        if input_shape is None:
            library, _, model_name = target.rpartition(":")
            hint = (video_hint(model_name) if library == "torchvision" else None) or "e.g. 224x224x3"
            raise ConvCalcError(f"{target}: its library gives no input size; give --input (channels last, {hint})",
                                "input")
    check_input_rank(model, input_shape)
    title = name or target.rpartition(":")[2] if target.split(":")[0] in LIBRARIES else name or type(model).__name__
    return capture(model, input_shape, title, target)


def flat_spec_text(flat: FlatNetwork) -> str:
    """The flat spec as JSON (which is YAML): the fallback while no readable writer is installed."""
    import json

    from convcalc.frontends.flat import to_spec_data

    return json.dumps(to_spec_data(flat), indent=1) + "\n"


def import_text(target: str, input_shape: Shape | None, name: str | None = None) -> str:
    """The spec text for ``convcalc import``: an existing ONNX file through the ONNX reader, anything else captured
    with torch; written by :func:`convcalc.frontends.spec_writer.write_spec`."""
    from convcalc.frontends.sources import source_kind

    if Path(target).is_file() and source_kind(target) == "onnx":
        from convcalc.frontends.onnx_reader import import_onnx  # type: ignore[attr-defined]

        flat = import_onnx(target, input_shape, name)
    else:
        flat = import_model(target, input_shape, name)
    try:
        from convcalc.frontends.spec_writer import write_spec  # type: ignore[attr-defined]
    except ImportError:
        return flat_spec_text(flat)
    return str(write_spec(flat))
