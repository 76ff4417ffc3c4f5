"""Names and text in the exported PyTorch source: spec text is data, never code.

Text from a spec reaches the source only as a ``repr`` literal, as an ASCII identifier derived from it, or escaped
inside the docstring. A name part PyTorch cannot take as a submodule name (empty, or an attribute of ``nn.Module``
such as ``forward``, ``training``, ``to``) gets trailing underscores (``forward_``); the exported module lists such
layers in its ``RENAMED`` dict. Used by :mod:`convcalc.io.torch_export` (and ``net --verify``, which finds each
layer's submodule by these names).
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

from convcalc.errors import ConvCalcError

# Attributes of an ``nn.Module`` instance (``dir(nn.Module())`` in torch 2.x, plus a few older private ones):
# ``add_module`` refuses these as submodule names, and ``self.forward = ...`` would shadow nothing but recurse.
RESERVED = frozenset(
    """
    T_destination __annotations__ __call__ __class__ __delattr__ __dict__ __dir__ __doc__ __eq__ __format__ __ge__
    __getattr__ __getattribute__ __getstate__ __gt__ __hash__ __init__ __init_subclass__ __le__ __lt__ __module__
    __ne__ __new__ __reduce__ __reduce_ex__ __repr__ __setattr__ __setstate__ __sizeof__ __str__ __subclasshook__
    __weakref__ __slots__ __qualname__ __firstlineno__ __static_attributes__ _apply _backward_hooks
    _backward_pre_hooks _buffers _call_impl _compiled_call_impl _forward_hooks _forward_hooks_always_called
    _forward_hooks_with_kwargs _forward_pre_hooks _forward_pre_hooks_with_kwargs _get_backward_hooks
    _get_backward_pre_hooks _get_name _is_full_backward_hook _load_from_state_dict _load_state_dict_post_hooks
    _load_state_dict_pre_hooks _maybe_warn_non_full_backward_hook _modules _named_members
    _non_persistent_buffers_set _parameters _register_load_state_dict_pre_hook _register_state_dict_hook
    _replicate_for_data_parallel _save_to_state_dict _slow_forward _state_dict_hooks _state_dict_pre_hooks _version
    _wrapped_call_impl add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
    load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty
    train training type xpu zero_grad
    """.split()
)
TAKEN_VARIABLES = frozenset({"x", "self", "torch", "nn"})
MAX_VARIABLE = 60  # characters of a layer name kept in its variable name


def identifier(name: str, taken: set[str]) -> str:
    """A local variable name for a layer name: ``layer1.0.conv1`` -> ``layer1_0_conv1`` (ASCII only, unique)."""
    text = re.sub(r"[^0-9A-Za-z_]", "_", name)[:MAX_VARIABLE] or "x"
    if text.startswith("__"):  # no private-name mangling, no ``__debug__``
        text = "v" + text
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "_" + text
    candidate, number = text, 1
    while candidate in taken:
        number += 1
        candidate = f"{text}_{number}"
    taken.add(candidate)
    return candidate


def class_name(name: str) -> str:
    """An ASCII CamelCase class name from the network's name: ``LeNet-5`` -> ``LeNet5``."""
    parts = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(part[:1].upper() + part[1:] for part in parts) or "Net"
    return text if not (text[0].isdigit() or keyword.iskeyword(text)) else "Net" + text


def literal(value: Any) -> str:
    """Python source for a plain value (number, string, bool, None, tuple or list of these)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(item) for item in value) + (",)" if len(value) == 1 else ")")
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise ConvCalcError(f"cannot write a value of type {type(value).__name__} into Python source", None)


def printable(text: str) -> str:
    """Text on one line: control characters, line breaks and the like as their escapes (``\\n``)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def docstring(lines: list[str]) -> str:
    """A triple-quoted literal whose value is exactly ``lines`` (each made printable), whatever they contain."""
    body = "\n".join(printable(line) for line in lines)
    return '"""' + body.replace("\\", "\\\\").replace('"', '\\"') + '\n"""'


def valid_part(part: str) -> bool:
    """Whether PyTorch takes this as a submodule name as it is (``add_module`` refuses these)."""
    return part != "" and part not in RESERVED


class PathPlan:
    """The submodule tree: which dotted paths are leaves (layers) and which are containers."""

    def __init__(self) -> None:
        self.leaves: set[tuple[str, ...]] = set()
        self.containers: set[tuple[str, ...]] = set()

    def fits(self, parts: tuple[str, ...]) -> bool:
        """A new leaf here clashes with no layer and no container, and no layer would become a container."""
        prefixes = (parts[:depth] for depth in range(1, len(parts)))
        return parts not in self.leaves and parts not in self.containers and not any(p in self.leaves for p in prefixes)

    def add(self, parts: tuple[str, ...]) -> None:
        self.leaves.add(parts)
        self.containers.update(parts[:depth] for depth in range(1, len(parts)))

    def mangle(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """Each part made valid and free by trailing underscores (``forward`` -> ``forward_``, empty -> ``_``)."""
        done: tuple[str, ...] = ()
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            candidate = part or "_"
            while not valid_part(candidate) or self._taken(done + (candidate,), last):
                candidate += "_"
            done += (candidate,)
        return done

    def _taken(self, parts: tuple[str, ...], last: bool) -> bool:
        return parts in self.leaves or (last and parts in self.containers)


def submodule_paths(names: list[str]) -> dict[str, str]:
    """Spec layer name -> dotted submodule path; a name is kept whenever PyTorch can take it (first come first)."""
    plan, paths = PathPlan(), {}
    for name in names:
        parts = tuple(name.split("."))
        if all(valid_part(part) for part in parts) and plan.fits(parts):
            plan.add(parts)
            paths[name] = name
    for name in names:
        if name not in paths:
            parts = plan.mangle(tuple(name.split(".")))
            plan.add(parts)
            paths[name] = ".".join(parts)
    return paths


def is_attribute(part: str) -> bool:
    """Whether ``self.<part>`` names exactly this submodule (ASCII: no NFKC folding; no ``__`` name mangling)."""
    return part.isascii() and part.isidentifier() and not keyword.iskeyword(part) and not part.startswith("__")


def accessor(path: str) -> str:
    """``self.fc`` at the top level when that is plain Python, else ``self.get_submodule('layer1.0.conv1')``."""
    return f"self.{path}" if is_attribute(path) else f"self.get_submodule({path!r})"


def parameter_accessor(path: str, kind: str = "parameter") -> str:
    """``self.gamma`` at the top level when that is plain Python, else ``self.get_parameter('blocks.0.gamma')``
    (``kind`` "buffer": ``self.get_buffer(...)``)."""
    return f"self.{path}" if is_attribute(path) else f"self.get_{kind}({path!r})"


def attach_parameter(parts: tuple[str, ...], code: str, kind: str = "parameter") -> str:
    """The statement that registers a learnable tensor (``param``; ``kind`` "buffer": a registered buffer,
    ``constant``) under its (possibly nested) path."""
    *parent, last = parts
    if parent:
        return f"{accessor('.'.join(parent))}.register_{kind}({last!r}, {code})"
    if is_attribute(last) and kind == "parameter":
        return f"self.{last} = {code}"
    return f"self.register_{kind}({last!r}, {code})"


def attach(parts: tuple[str, ...], code: str) -> str:
    """The statement that stores a module under its (possibly nested) path."""
    *parent, last = parts
    if parent:
        return f"{accessor('.'.join(parent))}.add_module({last!r}, {code})"
    if is_attribute(last):
        return f"self.{last} = {code}"
    return f"self.add_module({last!r}, {code})"
