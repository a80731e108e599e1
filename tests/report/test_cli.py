"""``dyag report`` (dyag/commands/report.py): writes the report and prints its path; exit 2 on bad input."""

from __future__ import annotations

from tests.report.helpers import SMALL, write


def test_cli_writes_the_report_and_prints_its_path(tmp_path, cli):
    out = tmp_path / "reports" / "index.html"
    result = cli("report", SMALL, "-o", out, "--lang", "en", "--title", "Nightly")
    assert result.rc == 0 and result.out.strip() == str(out)
    assert "<title>Nightly</title>" in out.read_text(encoding="utf-8")


def test_cli_bad_file_exits_2_naming_it(tmp_path, cli):
    bad = write(tmp_path / "old.json", {"schema_version": 0})
    result = cli("report", SMALL, bad, "-o", tmp_path / "index.html")
    assert result.rc == 2
    assert result.err.strip() == f"dyag: error: {bad}: unsupported schema_version 0 (this dyag reads 2)"


def test_cli_rejects_unknown_language(tmp_path, cli):
    result = cli("report", SMALL, "--lang", "de")
    assert result.rc == 2 and "--lang" in result.err
