"""docs/img/*.svg are current: docs/make_images.py regenerates them (into a temporary folder here) and every
committed picture equals its regenerated one; every picture parses as XML. Regenerate with
``python docs/make_images.py``."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_pictures_are_current(tmp_path):
    written = load_script().make_images(tmp_path)
    committed = ROOT / "docs" / "img"
    assert sorted(p.name for p in committed.glob("*.svg")) == sorted(p.name for p in written)
    stale = [p.name for p in written if (committed / p.name).read_text(encoding="utf-8") != p.read_text(encoding="utf-8")]
    assert not stale, f"docs/img is out of date ({', '.join(stale)}): run python docs/make_images.py"
    for path in written:
        ET.fromstring(path.read_bytes())


def test_every_picture_is_shown_in_the_docs():
    pictures = (ROOT / "docs" / "pictures.md").read_text(encoding="utf-8")
    for name, (command, _) in load_script().PICTURES.items():
        assert f"img/{name}" in pictures, name
        assert command.split(" --draw")[0] in pictures, command
