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
    folder = _folder_on_disk()
    candidate = (folder if folder is not None else _folder()) / f"{stem}.yaml"
    return str(candidate) if candidate.is_file() else None


def _folder_on_disk():  # type: ignore[no-untyped-def]
    """The examples' folder when it is one folder on disk (an ordinary install): the path importlib.resources gives,
    without importing it (~3 ms of `convcalc net NAME`); None otherwise (a zip), and :func:`_folder` answers."""
    import os
    from pathlib import Path

    import convcalc.examples

    spec = convcalc.examples.__spec__
    if spec is None or spec.origin is None or not spec.has_location or not os.path.isfile(spec.origin):
        return None
    return Path(spec.origin).parent
