"""The README stays true: its pasted output is what the program prints, its commands exist, the generated
validation schemas match the pydantic definitions."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from convcalc.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_blocks(text: str) -> list[tuple[str, str]]:
    """(command, output) of every ```console block: the line after `$ `, then the rest."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, re.S):
        first, _, rest = body.partition("\n")
        assert first.startswith("$ convcalc "), first
        blocks.append((first[len("$ convcalc ") :], rest))
    return blocks


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("\n## ", 1)[0]
    commands = re.findall(r"^python3 -m venv .*$", head, re.M)
    assert len(commands) == 2
    assert commands[0].endswith("convcalc net examples/lenet5.yaml")
    assert commands[1].endswith("pytest")


def test_readme_net_output_is_current(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "200")
    (command, expected), *_ = [b for b in console_blocks(README) if b[0].startswith("net ")]
    result = CliRunner().invoke(app, command.split())
    assert result.exit_code == 0, result.output
    assert [line.rstrip() for line in result.output.strip().splitlines()] == expected.strip().splitlines()


def test_readme_layer_example_numbers_are_current() -> None:
    command, expected = next(b for b in console_blocks(README) if b[0].startswith("layer ") and "--explain" not in b[0])
    result = CliRunner().invoke(app, command.split())
    assert result.exit_code == 0, result.output
    for number in re.findall(r"\d[\d,]{3,}", expected):
        assert number in result.output


def test_every_command_has_help_and_an_example() -> None:
    runner = CliRunner()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert command.callback.__doc__, name
        assert command.epilog and "Example" in command.epilog, name
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert f"convcalc {name}" in README or name in ("zoo", "schema"), name


def test_generated_core_schemas_match_the_pydantic_definitions() -> None:
    from convcalc.specfile._coreschemas import SCHEMAS
    from convcalc.specfile.schema import core_schemas

    assert SCHEMAS == core_schemas(), "run `python -m convcalc.specfile.schema` to regenerate convcalc/_coreschemas.py"


def test_readme_lenet5_listing_is_the_example_file() -> None:
    listing = next(block for block in re.findall(r"```yaml\n(.*?)```", README, re.S) if block.startswith("# LeNet-5"))
    assert listing == (ROOT / "examples" / "lenet5.yaml").read_text(encoding="utf-8")


def test_every_example_carries_expectations_that_hold() -> None:
    result = CliRunner().invoke(app, ["check", str(ROOT / "examples")])
    assert result.exit_code == 0, result.output
    for path in (ROOT / "examples").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "\nexpect:" in text and "expect: " in text.split("\nlayers:", 1)[1], path.name
