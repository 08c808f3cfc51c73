"""docs/reliability.md stays true: at least 35 cases, each naming tests that exist."""

from __future__ import annotations

import re

from tests.project import REPO


def test_every_case_names_an_existing_test():
    rows = [
        line
        for line in (REPO / "docs" / "reliability.md").read_text().splitlines()
        if re.match(r"\| \d+ \|", line)
    ]
    assert len(rows) >= 35
    defined = {
        name
        for path in (REPO / "tests").rglob("test_*.py")
        for name in re.findall(r"def (test_\w+)", path.read_text())
    }
    for row in rows:
        # `test_x`, `file.py::test_x`, `file.py::Class::test_x[id]`; not file names.
        named = set(re.findall(r"(?:`|::)(test_\w+)\b(?!\.py)", row.split("|")[-2]))
        assert named, f"no test named in: {row}"
        assert named <= defined, f"{named - defined} not found, in: {row}"
