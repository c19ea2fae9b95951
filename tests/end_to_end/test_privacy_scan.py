"""Privacy scan: unique markers planted in identifier columns, unknown columns and free text
of a delivery; the whole pipeline runs (`registry run`); then every file it wrote (the
warehouse, the publish folder, Dagster's storage and logs, dbt's target and logs, the run
log) is searched for them, opened the way a reader would (DuckDB files queried, Parquet
read, workbooks unzipped, everything else byte by byte): zero hits. Only the archive keeps
the delivered file as it came (contract section 1)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from registry import warehouse as warehouse_db
from registry.landing import load_site, load_site_master, register_site
from tests import tally

pytestmark = pytest.mark.slow

REGISTRY = str(Path(sys.executable).parent / "registry")
N_MARKED = 6


def markers() -> dict[str, list[str]]:
    """Markers by where they are planted (names can be recognised by no pattern: they are kept
    out by never storing identifier or unknown columns; the rest has identifier shapes)."""
    return {
        "identifier column (name)": [f"Qzxmarker Alpha{i}" for i in range(N_MARKED)],
        "identifier column (phone)": [f"+41 79 8{i:02d} 55 66" for i in range(N_MARKED)],
        "unknown column (guardian)": [f"Vrmarker Beta{i}" for i in range(N_MARKED)],
        "unknown column (contact e-mail)": [f"jqmarker{i}@example.org" for i in range(N_MARKED)],
        "free text (comment e-mail)": [f"kpmarker{i}@example.net" for i in range(N_MARKED)],
        "free text (note row)": ["Note: call lsmarker@example.com"],
        "coded cell (record number)": [f"MRN8842{i:04d}" for i in range(N_MARKED)],
    }


def plant(workbook_path: Path) -> None:
    marks = markers()
    workbook = openpyxl.load_workbook(workbook_path)
    sheet = workbook.worksheets[0]
    header_row = next(r for r in range(1, 16)
                      if sum(1 for c in sheet[r] if c.value not in (None, "")) >= 3)
    headers = [c.value for c in sheet[header_row]]
    width = len(headers)
    extra = {"Patient name": "identifier column (name)", "Telephone": "identifier column (phone)",
             "Legal representative": "unknown column (guardian)", "Contact": "unknown column (contact e-mail)",
             "Remarks": "free text (comment e-mail)"}
    for offset, header in enumerate(extra):
        sheet.cell(row=header_row, column=width + 1 + offset, value=header)
    cancer_column = next((i + 1 for i, h in enumerate(headers) if h and "cancer" in str(h).lower()), None)
    for i in range(N_MARKED):
        row = header_row + 1 + i
        for offset, where in enumerate(extra.values()):
            value = marks[where][i]
            if where.startswith("free text"):
                value = f"please write to {value} about this patient"
            sheet.cell(row=row, column=width + 1 + offset, value=value)
        if cancer_column:
            sheet.cell(row=row, column=cancer_column, value=f"carcinoma {marks['coded cell (record number)'][i]}")
    sheet.cell(row=sheet.max_row + 2, column=1, value=marks["free text (note row)"][0])
    workbook.save(workbook_path)


def texts_of(path: Path) -> list[str]:
    """What a reader of the file can see, as text."""
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            out = []
            for schema, table, column in con.execute(
                    "select schema_name, table_name, column_name from duckdb_columns() "
                    "where data_type = 'VARCHAR' and database_name = current_database()").fetchall():
                out += [v for (v,) in con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
                        if v]
            return out
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return [json.dumps(table.to_pylist(), default=str)]
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return [data.decode("utf-8", "replace"), data.decode("utf-16-le", "replace")]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    from registry.sample import generate

    root = tmp_path_factory.mktemp("privacy")
    generate(root / "sample", scale=0.05, seed=21)
    site_dir = sorted(p for p in (root / "sample" / "inbox").iterdir() if p.is_dir())[0]
    plant(sorted(site_dir.glob("*.xlsx"))[-1])
    env = {**os.environ, "REGISTRY_INBOX": str(root / "sample" / "inbox"),
           "REGISTRY_SITES": str(root / "sample" / "sites.csv"),
           "REGISTRY_WAREHOUSE": str(root / "out" / "warehouse" / "registry.duckdb"),
           "REGISTRY_PUBLISH_DIR": str(root / "out" / "publish"),
           "REGISTRY_PSEUDONYM_KEY": "privacy-scan-key", "DAGSTER_HOME": str(root / "out" / "dagster_home"),
           # rows planted past the data have no patient ref: rejected (and still screened)
           "REGISTRY_MAX_REJECTED_SHARE": "1"}
    done = subprocess.run([REGISTRY, "run", "--plain"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    written = [p for p in (root / "out").rglob("*")
               if p.is_file() and "archive" not in p.relative_to(root / "out").parts]
    return root, written, done.stdout + done.stderr


def test_the_scan_reads_every_kind_of_file_the_run_wrote(scanned):
    _, written, _ = scanned
    suffixes = {p.suffix for p in written}
    assert {".duckdb", ".parquet", ".xlsx", ".html", ".json", ".log"} <= suffixes, suffixes
    assert any("dagster_home" in p.parts for p in written) and any("dbt" in p.parts for p in written)


def test_no_marker_in_any_file_the_pipeline_wrote(scanned):
    _, written, output = scanned
    planted = [m for values in markers().values() for m in values]
    texts = {str(p): texts_of(p) for p in written}
    texts["terminal"] = [output]
    hits = [(where, marker) for where, chunks in texts.items() for chunk in chunks for marker in planted
            if marker in chunk]
    tally.add(bad_inputs=len(planted), identifier_leaks=len(hits))
    print(f"\nprivacy scan: {len(planted)} markers, {len(written)} files, {len(hits)} hits")
    assert hits == []


def test_the_archive_keeps_the_delivery_as_it_came(scanned):
    root, _, _ = scanned
    archived = list((root / "out" / "warehouse" / "archive").rglob("*.xlsx"))
    assert archived and any(any("Qzxmarker Alpha0" in t for t in texts_of(p)) for p in archived)


def test_pseudonyms_are_stable_with_one_key_and_differ_with_another(tmp_path):
    from registry.sample import generate

    generate(tmp_path / "sample", scale=0.05, seed=22)
    inbox = tmp_path / "sample" / "inbox"
    site = sorted(p.name for p in inbox.iterdir() if p.is_dir())[0]

    def keys(name: str, key: str) -> list[str]:
        con = warehouse_db.connect(tmp_path / f"{name}.duckdb")
        try:
            load_site_master(con, tmp_path / "sample" / "sites.csv")
            register_site(con, inbox, site, "load")
            load_site(con, inbox=inbox, site_id=site, load_id="load", pseudonym_key=key)
            return [k for (k,) in con.execute("select patient_key from landing.patients order by delivery_id, "
                                              "source_row").fetchall()]
        finally:
            con.close()

    first, again, other = keys("a", "key-one"), keys("b", "key-one"), keys("c", "key-two")
    assert first and first == again
    assert not set(first) & set(other)
