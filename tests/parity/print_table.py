"""Print the parity report: op × backend → max abs / max rel error against the reference.

    python tests/parity/print_table.py REPORT.json

Rows come from ``test_parity.py`` (``backend`` = jax, torch, tensorflow; errors against the
float64 reference) and ``test_portable_checkpoints.py`` (``backend`` = "source→target"; errors
between the two backends). Each cell is the worst case over the op's fixtures.
"""

import json
import sys

BACKENDS = ("jax", "torch", "tensorflow")


def worst(rows):
    """``{(op, backend): row}`` keeping, per cell, the largest errors and tolerances."""
    cells = {}
    for row in rows:
        key = (row["op"], row["backend"])
        cell = cells.setdefault(key, dict(row))
        for field in ("max_abs", "max_rel"):
            cell[field] = max(cell[field], row[field])
        cell["rtol"] = max(cell.get("rtol", 0.0), row.get("rtol", 0.0))
        cell["atol"] = max(cell.get("atol", 0.0), row.get("atol", 0.0))
    return cells


def table(rows, columns, title):
    cells = worst(rows)
    ops = list(dict.fromkeys(row["op"] for row in rows))  # first-seen order
    width = max([len("op")] + [len(op) for op in ops])
    header = f"{'op':<{width}}  " + "  ".join(f"{c:>19}" for c in columns)
    lines = [title, header + "  tolerance (rtol, atol)"]
    lines.append("-" * len(lines[-1]))
    for op in ops:
        parts, tolerance = [], ""
        for column in columns:
            cell = cells.get((op, column))
            if cell is None:
                parts.append(f"{'—':>19}")
                continue
            parts.append(f"{cell['max_abs']:9.1e} / {cell['max_rel']:7.1e}")
            tolerance = f"{cell['rtol']:.0e}, {cell['atol']:.0e}"
        lines.append(f"{op:<{width}}  " + "  ".join(parts) + f"  {tolerance}")
    return "\n".join(lines)


def main(path):
    with open(path) as handle:
        rows = json.load(handle)
    against_reference = [r for r in rows if "→" not in r["backend"]]
    between_backends = [r for r in rows if "→" in r["backend"]]
    if against_reference:
        columns = [b for b in BACKENDS if any(r["backend"] == b for r in against_reference)]
        print(table(against_reference, columns,
                    "Parity with the float64 reference: max abs / max rel error (worst fixture)"))
    if between_backends:
        pairs = list(dict.fromkeys(r["backend"] for r in between_backends))
        print()
        print(table(between_backends, pairs,
                    "Portable checkpoints, source→target: max abs / max rel difference"))
    if not rows:
        print(f"{path}: no rows")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
