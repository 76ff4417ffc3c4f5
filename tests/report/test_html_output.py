"""`net --format html`: one self-contained page that parses, fetches nothing, and holds the table, the diagram,
the bars, the chart, the totals and the counting convention."""

from __future__ import annotations

from html.parser import HTMLParser

from helpers import EXAMPLES, cli, cli_ok

from convcalc.cli.common import CONVENTION
from convcalc.report import html_output
from convcalc.report.folding import fold
from convcalc.run import analyze_spec

VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "source", "area", "base", "col", "embed", "track"}
SVG_VOID_OK = True  # inline SVG's <rect/> and friends close themselves


class Checker(HTMLParser):
    """Tags balanced (void and self-closed ones aside); what would load another file recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def check(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [] and checker.external == []
    assert "@import" not in page and "url(" not in page
    return checker


def test_the_page_holds_every_part():
    run = analyze_spec(str(EXAMPLES / "resnet50.yaml"), depth_text="0")
    page = html_output.net_html(run.report, run.depth)
    assert page.startswith("<!DOCTYPE html>\n")
    checker = check(page)
    rows = fold(run.report.rows, 0)
    assert checker.counts["tr"] == len(rows) + 1  # the heading row
    assert checker.counts["svg"] == 2  # the diagram and the field chart
    assert page.count('class="bar params"') == len(rows)
    assert "25,557,032" in page  # ResNet-50's parameters (torchvision's count)
    assert CONVENTION in page


def test_the_convention_is_the_cli_s():
    assert html_output.CONVENTION == CONVENTION


def test_net_format_html_prints_the_page():
    result = cli_ok("net", "lenet5", "--format", "html")
    check(result.stdout)
    assert "<h1>LeNet-5</h1>" in result.stdout


def test_html_is_refused_where_it_means_nothing():
    for mode in ("--compare", "--explain"):
        args = ("net", "lenet5", mode) + (("C3",) if mode == "--explain" else ()) + ("--format", "html")
        result = cli(*args)
        assert result.exit_code == 2 and "--format" in result.stderr and "not html" in result.stderr
