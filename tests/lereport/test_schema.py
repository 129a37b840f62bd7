"""The LE-report exchange format: a strict reader that names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tantalio.lereport.schema import SCHEMA, ReportFormatError, parse_report, read_report


def test_reader_names_file_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other/9"}')
    with pytest.raises(ReportFormatError, match=r"bad\.json: unsupported schema"):
        read_report(bad)
    bad.write_text("{not json")
    with pytest.raises(ReportFormatError, match=r"bad\.json: not JSON"):
        read_report(bad)
    with pytest.raises(ReportFormatError, match="account"):
        parse_report(
            {
                "schema": SCHEMA,
                "report_id": "r",
                "generated_at": "t",
                "incident_type": "x",
                "files": [],
                "upload_events": [],
                "reporter": {"company": "c", "first_name": "a", "last_name": "b", "email": "e"},
            }
        )
