"""Golden outputs: the JSON and the 120-column table of every bundled example, captured before the architecture
refactor and compared after it (and after every change since). A difference is either a regression or a
deliberate change: regenerate with ``pytest tests/test_golden.py --update-golden`` and review the diff."""

from __future__ import annotations

import pytest
from helpers import GOLDEN

from convcalc.cli import main
from convcalc.zoo import names

OUTPUTS = {"json": ("--format", "json"), "txt": ("--format", "table"), "depth1.csv": ("--format", "csv", "--depth", "1")}


def output_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    return captured.out


@pytest.mark.parametrize("suffix", sorted(OUTPUTS))
@pytest.mark.parametrize("name", names())
def test_bundled_example_output_is_unchanged(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, update_golden: bool, name: str, suffix: str
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    text = output_of(capsys, "net", name, *OUTPUTS[suffix])
    path = GOLDEN / f"{name}.{suffix}"
    if update_golden:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden output {path.name}: run pytest {__file__} --update-golden"
    assert text == path.read_text(encoding="utf-8")
