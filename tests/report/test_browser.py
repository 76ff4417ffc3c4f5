"""The HTML report and the SVGs as a browser shows them: headless Chromium (Debian's ``chromium`` package) opens
each, takes a screenshot; the page must have rendered (a PNG that is not one flat colour) without a console message
(a script error, a failed load). Marked ``browser``; skipped without a chromium binary.

Run: ``apt-get install chromium`` (or have ``chromium``/``chromium-browser``/``google-chrome`` on PATH, or set
``CONVCALC_CHROMIUM``), then ``pytest -q -m browser tests/report/test_browser.py``."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from helpers import EXAMPLES

pytestmark = pytest.mark.browser

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str:
    found = os.environ.get("CONVCALC_CHROMIUM") or next(filter(None, map(shutil.which, NAMES)), None)
    if not found:
        pytest.skip("no chromium binary (apt-get install chromium, or set CONVCALC_CHROMIUM)")
    return found


def screenshot(page: Path, png: Path, size: str = "1200,900") -> list[str]:
    """Open ``page`` headless, write a screenshot; the console messages the browser logged."""
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
        "--v=0", f"--user-data-dir={png.parent / 'profile'}", f"--window-size={size}", f"--screenshot={png}",
        page.as_uri(),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert png.is_file(), run.stderr[-2000:]
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit PNG, its filters undone (standard library only)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                estimate = left + up - corner
                best = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up), (abs(estimate - corner), 2, corner))
                line[x] = (line[x] + best[2]) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def assert_rendered(png: Path) -> None:
    """Not blank: a fair share of the pixels is not the background's colour, and there are several colours."""
    _, _, rows = pixels(png)
    sample = [row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 4 * 4)]
    background = max(set(sample), key=sample.count)
    other = sum(1 for p in sample if p != background)
    assert other > 0.01 * len(sample), f"{png.name}: {other} of {len(sample)} sampled pixels differ from the background"
    assert len(set(sample)) > 8


def write(path: Path, *args: str) -> Path:
    from helpers import cli

    result = cli(*args)
    assert result.exit_code == 0, result.output
    if not path.exists():
        path.write_text(result.stdout, encoding="utf-8")
    return path


def test_html_report_renders_without_console_errors(tmp_path):
    page = write(tmp_path / "resnet50.html", "net", str(EXAMPLES / "resnet50.yaml"), "--depth", "0", "--format", "html")
    png = tmp_path / "page.png"
    assert screenshot(page, png, "1000,1400") == []
    assert_rendered(png)


def test_window_and_network_svgs_render(tmp_path):
    window = tmp_path / "window.svg"
    write(window, "layer", "--in", "5x5x3", "--k", "3", "--s", "2", "--p", "1", "--out", "8", "--draw", str(window))
    network = tmp_path / "unet.svg"
    write(network, "net", "unet", "--draw", str(network))
    for picture in (window, network):
        png = tmp_path / f"{picture.stem}.png"
        assert screenshot(picture, png, "800,600") == []
        assert_rendered(png)
