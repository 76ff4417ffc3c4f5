"""Reading the YAML (convcalc.specfile.yamlnodes): syntax errors, duplicate keys, tags and merge keys refused, alias bombs
stopped; every error names the file and the line, before any layer exists.

Specs are written inline and loaded as ``net.yaml``; the line numbers in the expectations are counted in the texts
below (line 1 is the first line of the text).
"""

from __future__ import annotations

import time

import pytest
from helpers import SPEC_FILE, check_error, layer_names, load_net, spec_failure

from convcalc.errors import SpecError
from convcalc.specfile.loader import load_text


def test_yaml_syntax_error_points_at_the_line():
    error = spec_failure(
        """
        input: 8x8x1
        layers:
          - conv: k: 3
          - relu
        """
    )
    check_error(error, 3, None, "YAML syntax error: mapping values are not allowed")


def test_yaml_syntax_error_unclosed_flow_mapping():
    error = spec_failure(
        """
        input: 8x8x1
        layers:
          - conv: {k: 3}
           - relu
        """
    )
    check_error(error, 4, None, "YAML syntax error: did not find expected '-' indicator")


def test_yaml_tab_indentation():
    error = spec_failure("input: 8x8x1\n\tlayers:\n")
    check_error(error, 2, None, "YAML syntax error")
    assert "tab" in error.message


def test_duplicate_key():
    error = spec_failure(
        """
        input: 8x8x1
        layers:
          - conv:
              k: 3
              k: 5
              name: c
        """
    )
    # Detected while reading the YAML, before any layer exists: file and line, no layer name.
    check_error(error, 5, None, "duplicate key 'k' (first on line 4)")


def test_duplicate_top_level_key():
    error = spec_failure(
        """
        input: 8x8x1
        layers: [relu]
        input: 4x4x1
        """
    )
    check_error(error, 3, None, "duplicate key 'input' (first on line 1)")


@pytest.mark.parametrize(
    ("layer_text", "tag"),
    [
        ("- !!python/object:os.system {k: 3}", "python/object:os.system"),
        ("- conv: {k: !!python/name:os.system }", "python/name:os.system"),
        ("- !!python/object/apply:os.system ['echo owned']", "python/object/apply:os.system"),
        ("- conv: {k: !!binary aGVsbG8=}", "binary"),
        ("- !custom {k: 3}", "!custom"),
    ],
)
def test_python_and_other_tags_are_refused(layer_text, tag):
    error = spec_failure(f"input: 8x8x1\nlayers:\n  - relu\n  {layer_text}\n")
    check_error(error, 4, None, "unsupported YAML tag")
    assert tag in error.message


def test_merge_keys_are_refused():
    error = spec_failure(
        """
        input: 8x8x1
        defaults: &d {k: 3}
        layers:
          - conv: {<<: *d, out: 4}
        """
    )
    check_error(error, 4, None, "YAML merge keys (<<) are not supported")


ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
input: 8x8x1
layers: [relu]
"""


def test_alias_bomb_fails_fast():
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        load_text(ALIAS_BOMB, SPEC_FILE)  # 9**9 = 387,420,489 strings if expanded
    elapsed = time.perf_counter() - start
    assert elapsed < 0.75, f"{elapsed:.2f} s"
    error = caught.value
    assert error.file == SPEC_FILE and error.layer is None
    assert error.line is not None and 1 <= error.line <= 9  # somewhere in the anchors
    assert "alias bomb" in error.message and "200,000" in error.message


def test_aliases_within_the_budget_are_fine():
    network = load_net(
        """
        input: 8x8x1
        layers:
          - conv: &c {out: 2, k: 3, p: 1, name: a}
          - conv: {out: 2, k: 3, p: 1, name: b}
          - relu
        """
    )
    assert layer_names(network) == ["a", "b", "relu_2"]
