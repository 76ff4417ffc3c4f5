"""Block arguments and expressions in specs (convcalc.specfile.expressions): ``$name`` and ``${expression}``, evaluated
safely; every bad expression is a SpecError naming the line and the layer, and none may run away.
"""

from __future__ import annotations

import pytest
from helpers import check_error, run_isolated, spec_failure


def test_bad_expression_syntax_in_a_block():
    error = spec_failure(
        """
        input: 8x8x1
        blocks:
          b:
            args: {w: 1}
            layers:
              - relu
              - conv: {out: "${w +* 2}", k: 1, name: c}
        layers:
          - relu
          - b: {w: 2, name: blk}
        """
    )
    # BUG (same as test_errors_without_a_key_inside_blocks_point_into_the_block): reported at line 10, the block's use.
    check_error(error, 7, "blk.c", "cannot parse expression 'w +* 2'")


def test_unknown_name_in_expression():
    error = spec_failure(
        """
        input: 8x8x1
        layers:
          - relu
          - conv: {out: "${nope * 2}", k: 1, name: c}
        """
    )
    check_error(error, 4, "c", "unknown name 'nope' in 'nope * 2'")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${1 / 0}", "division by zero"),
        ("${out.real}", "unsupported expression"),
        ("${len([1])}", "unsupported expression"),
        ("${__import__('os')}", "unsupported expression"),
        ("${[1, 2][0]}", "unsupported expression"),
        ("${[1] + 1}", "can only concatenate list"),
    ],
)
def test_bad_expressions(expression, message):
    check_error(
        spec_failure(f'input: 8x8x1\nlayers:\n  - relu\n  - conv: {{out: "{expression}", k: 1, name: c}}\n'), 4, "c", message
    )


@pytest.mark.parametrize("expression", ["${-[1]}", "${not [1] < 1}", "${1 < [1]}", "${[1] * 'a' < 2}"])
def test_type_errors_in_expressions_are_spec_errors(expression):
    # BUG: unary minus and comparisons on mismatched types escape as TypeError tracebacks.
    error = spec_failure(f'input: 8x8x1\nlayers:\n  - relu\n  - conv: {{out: "{expression}", k: 1, name: c}}\n')
    assert error.line == 4 and error.layer == "c"


@pytest.mark.parametrize("expression", ["${9 ** 9 ** 9}", "${(10 ** 7) ** (10 ** 7)}"])
def test_expression_bombs_fail_fast(expression):
    # BUG: ${9**9**9} computes a 370-million-digit number (minutes of CPU); the alias-bomb rule should apply here too.
    done = run_isolated(f'input: 8x8x1\nlayers:\n  - conv: {{out: "{expression}", k: 1, name: c}}\n', timeout=3)
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("net.yaml:3: layer 'c': "), done.stdout
