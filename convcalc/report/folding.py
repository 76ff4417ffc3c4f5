"""``--depth``: a network's rows with blocks nested deeper than a depth folded into one row per block instance, the
same in every format."""

from __future__ import annotations

from typing import Any


def fold(rows: tuple[Any, ...], depth: int | None) -> list[Any]:
    """Open block instances ``depth`` levels deep; fold anything deeper into one row per instance
    (``depth=0``: every top-level block instance is one row). A block's warnings name their layer."""
    if depth is None:
        return list(rows)
    from dataclasses import replace

    folded: list[Any] = []
    for row in rows:
        if len(row.blocks) <= depth:
            folded.append(row)
            continue
        key = row.blocks[depth]
        warnings = tuple(f"{row.name}: {warning}" for warning in row.warnings)
        last = folded[-1] if folded else None
        if last is not None and last.op == "block" and last.name == key:
            folded[-1] = replace(
                last,
                output_shape=row.output_shape,
                output_shapes=row.output_shapes,
                output_fields=row.output_fields,
                params=last.params + row.params,
                buffers=last.buffers + row.buffers,
                macs=last.macs + row.macs,
                flops=last.flops + row.flops,
                field=row.field,
                warnings=last.warnings + warnings,
            )
        else:
            folded.append(replace(row, name=key, op="block", blocks=row.blocks[:depth], warnings=warnings, spec=None))
    return folded
