"""Print line coverage of ``pos_app`` by package from ``coverage json``'s report (``make
coverage``): one row per package (``pos_app/server/services`` apart from ``pos_app/server``),
then the total, and exit 1 below :data:`GATE` percent (the venues' quality gate)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import PurePosixPath

GATE = 80.0


def by_package(report: dict[str, object]) -> dict[str, tuple[int, int]]:
    """``{package: (statements, covered)}`` from a ``coverage json`` document."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    files = report["files"]
    assert isinstance(files, dict)
    for name, data in files.items():
        path = PurePosixPath(name.replace("\\", "/"))
        parts = path.parts[path.parts.index("pos_app"):-1] if "pos_app" in path.parts else ()
        package = "/".join(parts) or "pos_app"
        summary = data["summary"]
        totals[package][0] += int(summary["num_statements"])
        totals[package][1] += int(summary["covered_lines"])
    return {package: (s, c) for package, (s, c) in sorted(totals.items())}


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as handle:
        report = json.load(handle)
    rows = by_package(report)
    width = max(len(p) for p in rows)
    print(f"{'package':<{width}}  statements  covered      %")
    for package, (statements, covered) in rows.items():
        share = 100.0 * covered / statements if statements else 100.0
        print(f"{package:<{width}}  {statements:>10}  {covered:>7}  {share:5.1f}")
    statements = sum(s for s, _ in rows.values())
    covered = sum(c for _, c in rows.values())
    total = 100.0 * covered / statements if statements else 100.0
    print(f"{'total':<{width}}  {statements:>10}  {covered:>7}  {total:5.1f}")
    if total < GATE:
        print(f"coverage {total:.1f}% is below the gate of {GATE:.0f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
