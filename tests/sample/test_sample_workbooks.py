"""Every variation of the site workbook contract appears in the written workbooks,
and every planted fault is where the truth says (opened with openpyxl)."""
import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from registry.sample import FAULT_KINDS
from registry.sample.tables import LANGUAGES, sheet_names


def _read(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: (list(ws.iter_rows(values_only=True)), ws.merged_cells.ranges) for ws in wb.worksheets}


@pytest.fixture(scope="module")
def books(default_sample):
    return {p.relative_to(default_sample.inbox).as_posix(): _read(p)
            for p in sorted(default_sample.inbox.rglob("*.xlsx"))}


def _cells(books):
    for book in books.values():
        for rows, _ in book.values():
            for row in rows:
                yield from (c for c in row if c is not None)


def test_site_master_covers_the_contract(default_sample):
    s = pd.read_csv(default_sample.sites_csv)
    assert list(s.columns) == ["site_id", "site_name", "country", "region", "language", "date_order",
                               "pain_scale", "eq5d_version"]
    assert set(s.language) == set(LANGUAGES)
    assert set(s.date_order) == {"MDY", "DMY", "YMD"}
    assert set(s.pain_scale) == {"NRS11", "VAS100"} and set(s.eq5d_version) == {"3L", "5L"}
    assert set(s.region) == {"United States", "Western Europe", "Latin America"}
    assert s.site_id.str.fullmatch(r"[A-Z]{2}-\d{3}").all()
    folders = {p.name for p in default_sample.inbox.iterdir()}
    assert folders == set(s.site_id)


def test_sheet_names_in_every_language(books):
    titles = {t for b in books.values() for t in b}
    for lang in LANGUAGES:
        assert titles & set(sheet_names()[("patients", lang)]) or lang == "fr" and "Patients" in titles, lang


def test_layout_variations(books):
    merged = [r for b in books.values() for _, m in b.values() for r in m]
    assert merged, "merged banner cells"
    headers_late = blank_inside = totals = 0
    for book in books.values():
        for rows, _ in book.values():
            first = next(i for i, r in enumerate(rows) if sum(c is not None for c in r) > 2)
            assert first < 15
            headers_late += first > 0
            body = rows[first + 1:]
            last = max((i for i, r in enumerate(body) if any(c is not None for c in r)), default=-1)
            blank_inside += any(all(c is None for c in r) for r in body[: max(last - 2, 0)])
            tail = [c for c in body[last] if c is not None] if last >= 0 else []
            totals += len(tail) == 1 and isinstance(tail[0], str) and re.match(r"(Total|Gesamt|Totale|Totaal)", tail[0]) is not None
    assert headers_late and blank_inside and totals


def test_cell_variations(books):
    cells = list(_cells(books))
    text = [c for c in cells if isinstance(c, str)]
    assert any(isinstance(c, dt.datetime) for c in cells), "real Excel dates"
    assert any(isinstance(c, int) and 36000 < c < 43000 for c in cells), "Excel serial numbers"
    for pattern in (r"\d{2}/\d{2}/\d{4}", r"\d{2}\.\d{2}\.\d{2}", r"\d{2}-\d{2}-\d{2}", r"\d{4}/\d{2}/\d{2}",
                    r"\d{2}\.\d{2}\.\d{4}"):
        assert any(re.fullmatch(pattern, t) for t in text), pattern
    assert any(re.fullmatch(r"\d+,5", t) for t in text), "decimal commas"
    assert any(re.fullmatch(r"\d+ mm", t) for t in text) and any(re.fullmatch(r"\d+/10", t) for t in text)
    assert {"desconocido", "k.A.", "unbekannt", "inconnu", "onbekend"} & set(text) and len(
        {"desconocido", "desconhecido", "inconnu", "unbekannt", "k.A.", "sconosciuto", "onbekend", "NA", "N/A",
         "ND", "n.a.", "-", "?", "unknown"} & set(text)) >= 4, "missing-value words"
    assert any(re.fullmatch(r"C\d\d(\.\d)?", t) for t in text), "ICD-10 codes"
    assert any(re.fullmatch(r"[1-5]{5}", t) for t in text), "five-digit EQ-5D states"
    assert any(re.search(r" \+ |; |, | / ", t) and ("Prialt" in t or "morfina" in t.lower() or "Morphin" in t
                                                        or "morphine" in t.lower()) for t in text), "multi-drug cells"
    headers = [t for t in text if "\n" in t or t.endswith(" *") or t != t.strip()]
    assert headers, "decorated headers"


def test_direct_identifiers(default_sample, books):
    ids = pd.read_csv(default_sample.truth_dir / "identifiers.csv", dtype=str)
    assert {"patient_name", "phone", "medical_record_number", "national_id", "email"} <= set(ids["column"])
    text = {c for c in _cells(books) if isinstance(c, str)}
    assert set(ids["value"]) <= text
    assert not ids["value"].str.contains(r"\d{2}-\d{4}$", regex=True).all()


def test_cumulative_redeliveries(default_sample, books):
    files = pd.read_csv(default_sample.truth_dir / "files.csv", dtype=str, keep_default_na=False)
    older = files[files.expected_status == "superseded"]
    assert len(older) >= 3
    for row in older.itertuples():
        newer = files[(files.site_id == row.site_id) & (files.expected_status == "current")].file_path.iloc[0]
        n_old = len(next(iter(books[row.file_path].values()))[0])
        n_new = len(next(iter(books[newer].values()))[0])
        assert row.data_cut in row.file_path and n_old < n_new


def test_warning_row_is_the_young_patient(default_sample):
    w = pd.read_csv(default_sample.truth_dir / "warnings.csv")
    assert list(w["warning"]) == ["age_under_18"]
    rows = _read(default_sample.inbox / w.file_path[0])
    patients = next(iter(rows.values()))[0]
    assert w.patient_ref[0] in patients[w.source_row[0] - 1]


# ---------------------------------------------------------------- faults

def test_fault_kinds_cover_reason_codes():
    assert len(FAULT_KINDS) == len(set(FAULT_KINDS)) == 18


def test_row_faults_are_in_the_workbooks(faulty_sample):
    rej = pd.read_csv(faulty_sample.truth_dir / "rejections.csv")
    reasons = set(rej["reasons"])
    assert reasons == {k for k in FAULT_KINDS[:11]}
    cache = {}
    for r in rej.itertuples():
        if r.file_path not in cache:
            cache[r.file_path] = list(_read(faulty_sample.inbox / r.file_path).values())
        sheet = cache[r.file_path][["patients", "visits", "events", "exits"].index(r.sheet_kind)][0]
        row = sheet[r.source_row - 1]
        values = [c for c in row if c is not None]
        assert values, r
        if r.reasons == "pain_out_of_range":
            assert any(str(c).startswith(("14", "140")) for c in values)
        if r.reasons == "eq_vas_out_of_range":
            assert 150 in values or "150" in values
        if r.reasons == "unparseable_date":
            assert any("31" in str(c) and "02" in str(c) and "2015" in str(c) for c in values)
        if r.reasons == "duplicate_patient_ref":
            ref = next(c for c in values if isinstance(c, str) and re.fullmatch(r"[A-Z]{2}\d{3}-8\d{3}", c))
            assert sum(ref in rw for rw in sheet) == 2


def test_faults_leave_the_valid_truth_unchanged(default_sample, faulty_sample):
    for name in ("patients.csv", "visits.csv", "events.csv", "marts/pain_outcomes.csv", "marts/cohort_overview.csv"):
        assert (default_sample.truth_dir / name).read_bytes() == (faulty_sample.truth_dir / name).read_bytes()


def test_file_faults(faulty_sample):
    files = pd.read_csv(faulty_sample.truth_dir / "files.csv", dtype=str, keep_default_na=False)
    inbox = faulty_sample.inbox
    assert set(FAULT_KINDS[11:]) <= set(files.reason_code)
    sites = set(pd.read_csv(faulty_sample.sites_csv).site_id)
    for r in files[files.reason_code != ""].itertuples():
        path = inbox / r.file_path
        assert path.exists()
        if r.reason_code == "unreadable_workbook":
            with pytest.raises(Exception):
                openpyxl.load_workbook(path)
            current = files[(files.site_id == r.site_id) & (files.expected_status == "current")]
            assert r.data_cut > current.data_cut.iloc[0]
        elif r.reason_code == "unknown_site":
            assert r.site_id not in sites
        elif r.reason_code == "no_patients_sheet":
            titles = openpyxl.load_workbook(path).sheetnames
            patient_names = {n for (k, _), v in sheet_names().items() if k == "patients" for n in v}
            assert not set(titles) & patient_names and len(titles) == 3
        elif r.reason_code == "missing_required_column":
            current = files[(files.site_id == r.site_id) & (files.expected_status == "current")].file_path.iloc[0]
            width = lambda p: openpyxl.load_workbook(p).worksheets[0].max_column
            assert width(path) == width(inbox / current) - 1   # the implant date column is gone
            assert r.data_cut > "2017-07-31"
        elif r.reason_code == "duplicate_file":
            original = files[(files.site_id == r.site_id) & (files.expected_status == "current")].file_path.iloc[0]
            assert path.read_bytes() == (inbox / original).read_bytes() and original < r.file_path
        elif r.reason_code == "not_a_workbook":
            assert path.suffix == ".csv" and r.site_id in sites
        elif r.reason_code == "outside_site_folder":
            assert "/" not in r.file_path
