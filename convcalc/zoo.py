"""The bundled example networks (the repository's ``examples/``, installed as ``convcalc.examples``)."""

from __future__ import annotations


def _folder():  # type: ignore[no-untyped-def]
    from importlib.resources import files

    return files("convcalc.examples")


def names() -> list[str]:
    return sorted(entry.name[: -len(".yaml")] for entry in _folder().iterdir() if entry.name.endswith(".yaml"))


def bundled(name: str) -> str | None:
    """The path of the bundled example ``name`` (``lenet5`` or ``lenet5.yaml``), or None."""
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    stem = stem.rsplit("/", 1)[-1] if stem.startswith("examples/") else stem
    candidate = _folder() / f"{stem}.yaml"
    return str(candidate) if candidate.is_file() else None
