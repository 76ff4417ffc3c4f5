"""The SVG primitives every picture shares: escaping, elements written as text, a document with its style sheet,
the palette (one colour per group). No drawing library: an SVG is text, and every value that comes from a user (a
layer name, a spec's name) goes through :func:`escape`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

# One colour per group of a grouped conv (cycled past eight), readable on white and as a light fill.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
INK = "#222222"
MUTED = "#777777"
PAD_FILL = "#e8e8e8"
ZERO_FILL = "#fbeaea"  # the zeros a transposed conv inserts between its inputs
INPUT_FILL = "#cfe2f3"
OUTPUT_FILL = "#d9ead3"
TAP_FILL = "#1f5a96"
HIT_FILL = "#38761d"

STYLE = (
    "text{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;fill:#222}"
    ".small{font-size:10px}.label{font-size:12px}.title{font-size:14px;font-weight:bold}"
    ".muted{fill:#777}.grid{stroke:#999;stroke-width:0.5}"
)

Attrs = Mapping[str, object]


def escape(text: object) -> str:
    """Text content of an element: &, < and > escaped; control characters that XML 1.0 forbids dropped."""
    clean = "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)
    return _escape(clean)


def number(value: float) -> str:
    """A coordinate, short: 12, 12.5, 12.33."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attributes(attrs: Attrs) -> str:
    """``name="value"`` pairs, values quoted and escaped; underscores in names become dashes (``font_size``); None
    values left out."""
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        text = number(value) if isinstance(value, float) else str(value)
        parts.append(f"{name.rstrip('_').replace('_', '-')}={quoteattr(clean_attr(text))}")
    return (" " + " ".join(parts)) if parts else ""


def clean_attr(text: str) -> str:
    return "".join(ch for ch in text if ord(ch) >= 0x20)


def element(name: str, attrs: Attrs | None = None, children: Iterable[str] | str = ()) -> str:
    """One element; ``children`` are already-written elements (a string is escaped text content)."""
    body = escape(children) if isinstance(children, str) else "".join(children)
    if not body:
        return f"<{name}{attributes(attrs or {})}/>"
    return f"<{name}{attributes(attrs or {})}>{body}</{name}>"


def rect(x: float, y: float, width: float, height: float, fill: str, **attrs: object) -> str:
    return element("rect", {"x": float(x), "y": float(y), "width": float(width), "height": float(height),
                            "fill": fill, **attrs})  # fmt: skip


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = INK, **attrs: object) -> str:
    return element("line", {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2), "stroke": stroke, **attrs})


def text(x: float, y: float, content: str, css: str = "label", **attrs: object) -> str:
    return element("text", {"x": float(x), "y": float(y), "class": css, **attrs}, content)


def title(content: str) -> str:
    """A tooltip (and the accessible name) of the element it is the first child of."""
    return element("title", {}, content)


def group(children: Iterable[str], **attrs: object) -> str:
    return element("g", attrs, children)


def colour(index: int) -> str:
    """The colour of group ``index`` (cycling through the palette)."""
    return PALETTE[index % len(PALETTE)]


def document(width: float, height: float, body: Iterable[str], heading: str, description: str = "") -> str:
    """A standalone SVG document: its title, a description, the style sheet and a white background."""
    children = [element("title", {}, heading)]
    if description:
        children.append(element("desc", {}, description))
    children.append(element("style", {}, STYLE))
    children.append(rect(0, 0, width, height, "#ffffff"))
    children.extend(body)
    root = element(
        "svg",
        {"xmlns": "http://www.w3.org/2000/svg", "width": float(width), "height": float(height),
         "viewBox": f"0 0 {number(width)} {number(height)}"},
        children,
    )  # fmt: skip
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + root + "\n"


def inline(svg: str) -> str:
    """An SVG document as an element to put inside HTML (without its XML declaration)."""
    return svg.split("?>", 1)[1].strip() if svg.startswith("<?xml") else svg.strip()
