"""Size limits checked on the zip before the reader expands anything (contract section 5)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from registry.config import RegistryConfig
from registry.landing.limits import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_ROWS_PER_SHEET,
    DEFAULT_MAX_SHEET_MB,
    WorkbookLimits,
    check_workbook,
)
from registry.landing.workbook import FileRejected, read_workbook
from tests.landing import hostile
from tests.landing import workbooks as wbs

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def reason(content: bytes, limits: WorkbookLimits | None = None) -> str:
    with pytest.raises(FileRejected) as caught:
        read_workbook(content, limits=limits)
    return caught.value.reason


def test_defaults_are_the_configuration_defaults():
    fields = RegistryConfig.model_fields
    assert fields["max_file_mb"].default == DEFAULT_MAX_FILE_MB
    assert fields["max_sheet_mb"].default == DEFAULT_MAX_SHEET_MB
    assert fields["max_rows_per_sheet"].default == DEFAULT_MAX_ROWS_PER_SHEET


def test_a_normal_workbook_passes_and_its_sheets_are_measured():
    check = check_workbook(wbs.to_bytes(wbs.us_workbook()))
    patients = check.sheet("Patients")
    assert patients is not None and patients.rows == 11 and patients.last_column == 12
    assert patients.expanded_bytes == patients.declared_bytes > 0
    assert check.sheet("Follow-up").rows == 4


def test_compressed_size():
    content = wbs.to_bytes(wbs.us_workbook())
    assert reason(content, WorkbookLimits(max_file_mb=0.001)).startswith("too_large: the file is")
    assert "max_file_mb" in reason(content, WorkbookLimits(max_file_mb=0.001))


def test_declared_size_refuses_an_honest_bomb_from_the_directory_alone():
    text = reason(hostile.zip_bomb(300_000_000))
    assert text.startswith("too_large: sheet 'Patients' declares 299.9 MB once expanded, the limit is 200 MB")


def test_a_bomb_that_lies_about_its_size_is_stopped_where_the_lie_shows():
    text = reason(hostile.zip_bomb(300_000_000, declared=1000))
    assert text.startswith("too_large: sheet 'Patients' expands past the 1,000 bytes it declares")


def test_a_bomb_declared_under_the_limit_is_stopped_before_the_limit():
    text = reason(hostile.zip_bomb(30_000_000, declared=4_000_000), WorkbookLimits(max_sheet_mb=5))
    assert text.startswith("too_large: sheet 'Patients' expands past the 4.0 MB it declares")


def test_rows_per_sheet_counted_when_the_dimension_lies_or_is_absent():
    assert "holds more than 1,000 rows (max_rows_per_sheet" in reason(
        hostile.many_rows(1500), WorkbookLimits(max_rows_per_sheet=1000))
    # one row numbered 2,000,000 behind a dimension of A1:B2: the reader would pad every row
    text = reason(hostile.far_row(2_000_000))
    assert "holds more than 1,000,000 rows" in text and "its dimension says A1:B2" in text
    text = reason(hostile.far_row(2_000_000, dimension=None), WorkbookLimits())
    assert "holds more than 1,000,000 rows" in text


def test_a_far_column_makes_a_grid_too_large_for_the_reader():
    text = reason(hostile.wide_grid(20_000))
    assert text.startswith("too_large: sheet 'Patients' spans 20,000 rows x 16,384 columns")
    assert "spans 2,000 rows x 16,384 columns" in reason(hostile.wide_grid(2_000, with_r=False))


def test_a_sheet_whose_dimension_announces_the_whole_grid_but_holds_little_loads():
    read = read_workbook(hostile.whole_grid_dimension())
    rows = read.sheets["patients"].rows.to_pylist()
    assert [r["patient_ref"] for r in rows] == ["P1", "P2"]
    assert check_workbook(hostile.whole_grid_dimension()).sheet("Patients").dimension == "A1:XFD1048576"


@pytest.mark.parametrize("make, expected", [
    (lambda: hostile.with_member_name(wbs.us_workbook(), "../../etc/evil.txt"), "absolute or '..' path"),
    (lambda: hostile.with_member_name(wbs.us_workbook(), "/etc/evil.txt"), "absolute or '..' path"),
    (lambda: hostile.with_member_name(wbs.us_workbook(), "C:/evil.txt"), "absolute or '..' path"),
    (lambda: hostile.with_duplicate_member(wbs.us_workbook()), "two parts of the same name"),
    (lambda: hostile.lying_short(wbs.us_workbook()), "declares"),
    (lambda: hostile.encrypted_members(wbs.us_workbook()), "encrypted"),
    (lambda: hostile.bzip2_members(wbs.us_workbook()), "method 12"),
    (hostile.empty_zip, "the zip is empty"),
    (lambda: wbs.truncated_xlsx(wbs.us_workbook()), "truncated"),
    (wbs.password_protected_xlsx, "password-protected"),
    (lambda: b"patient_id,implant_date\nP1,2015-01-01\n", "not a zip file"),
    (lambda: b"", "the file is empty"),
])
def test_crafted_and_broken_zips_are_unreadable(make, expected):
    text = reason(make())
    assert text.startswith("unreadable_workbook: ") and expected in text


def test_a_two_gigabyte_bomb_is_refused_in_bounded_memory(tmp_path):
    """The worst case: a 2 GB-expanding sheet that declares 190 MB (under the 200 MB limit),
    so that the check must stream it to the limit. Run in a fresh process: the check itself
    must not grow the process by more than a few megabytes of buffers (the time it takes is
    printed, not asserted: timing belongs to benchmarks/)."""
    script = textwrap.dedent(f"""
        import json, resource, sys, time
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from tests.landing.hostile import zip_bomb
        from registry.landing.limits import check_workbook
        from registry.landing.workbook import FileRejected
        content = zip_bomb(2_000_000_000, declared=190_000_000)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            check_workbook(content)
            reason = None
        except FileRejected as exc:
            reason = exc.reason
        print(json.dumps({{"seconds": time.perf_counter() - started, "file_mb": len(content) / 1e6,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "rss_before_mb": before / 1024, "reason": reason}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n2 GB bomb: {measured}")
    assert measured["reason"].startswith("too_large: sheet 'Patients'")
    assert measured["peak_rss_mb"] - measured["rss_before_mb"] < 100
