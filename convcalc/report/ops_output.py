"""``convcalc ops`` in its three formats: a text listing wrapped to the terminal, JSON, and a Markdown table (the
one docs/spec.md shows)."""

from __future__ import annotations

import json
import textwrap

from convcalc.specfile.op_arguments import Argument, OpListing


def argument_text(argument: Argument) -> str:
    """``k (kernel_size): int >= 1 | [int >= 1], required``."""
    aliases = f" ({', '.join(argument.aliases)})" if argument.aliases else ""
    return f"{argument.name}{aliases}: {argument.type}{', required' if argument.required else ''}"


def ops_text(listings: list[OpListing], width: int | None = None) -> str:
    """One block per op: its line, then its spellings, arguments, cost and PyTorch module, wrapped to ``width``."""
    width = width or 100
    blocks = []
    for listing in listings:
        entry = listing.op
        lines = textwrap.wrap(f"{entry.name}  ({entry.category.value}) {entry.summary}", width, subsequent_indent="    ")
        facts = [
            ("aliases", ", ".join(entry.aliases)),
            ("arguments", "; ".join(argument_text(a) for a in listing.arguments) or "none"),
            ("inputs", "several (from: a list)" if entry.merge else ""),
            ("cost", entry.cost),
            ("torch", f"nn.{entry.torch.replace('{n}', 'N')}" if entry.torch else "written in forward (no module)"),
            ("layer", "also `convcalc layer --op`" if entry.layer_options is not None else ""),
        ]
        for label, text in facts:
            if text:
                lines += textwrap.wrap(f"{label}: {text}", width, initial_indent="  ", subsequent_indent="    ")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def ops_json(listings: list[OpListing]) -> str:
    return json.dumps([listing.to_dict() for listing in listings], indent=2)


def ops_markdown(listings: list[OpListing]) -> str:
    """| op | aliases | arguments | what it does | cost |: the table docs/spec.md shows (a test keeps it current)."""
    rows = ["| op | aliases | arguments | what it does | cost |", "| --- | --- | --- | --- | --- |"]
    for listing in listings:
        entry = listing.op
        aliases = ", ".join(f"`{alias}`" for alias in entry.aliases)
        args = ", ".join(argument_markdown(a) for a in listing.arguments) or ("(`from:` a list)" if entry.merge else "")
        rows.append(f"| `{entry.name}` | {aliases} | {args} | {entry.summary} | {entry.cost} |")
    return "\n".join(rows)


def argument_markdown(argument: Argument) -> str:
    """`` `k` (`kernel_size`, required)``."""
    notes = [f"`{alias}`" for alias in argument.aliases] + (["required"] if argument.required else [])
    return f"`{argument.name}`" + (f" ({', '.join(notes)})" if notes else "")
