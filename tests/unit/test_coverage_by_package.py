"""``make coverage``'s table: files summed by package, the total, and the 80% gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.coverage_by_package import by_package, main


def _report(files: dict[str, tuple[int, int]]) -> dict[str, object]:
    return {"files": {name: {"summary": {"num_statements": s, "covered_lines": c}}
                      for name, (s, c) in files.items()}}


def test_files_are_summed_by_their_package() -> None:
    report = _report({"pos_app/cli.py": (10, 9), "pos_app/server/db.py": (20, 10),
                      "pos_app/server/sql.py": (30, 30),
                      "/abs/pos_app/server/services/sales.py": (40, 20)})
    assert by_package(report) == {"pos_app": (10, 9), "pos_app/server": (50, 40),
                                  "pos_app/server/services": (40, 20)}


@pytest.mark.parametrize(("covered", "code"), [(80, 0), (79, 1)])
def test_the_total_below_80_percent_fails(tmp_path: Path, covered: int, code: int,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "by-file.json"
    path.write_text(json.dumps(_report({"pos_app/domain/cash.py": (100, covered)})))
    assert main(["coverage_by_package", str(path)]) == code
    assert "total" in capsys.readouterr().out
