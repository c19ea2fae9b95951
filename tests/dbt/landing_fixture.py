"""A small landing zone (architecture "Landing zone") for the dbt project's tests.

Four sites of different languages, date orders, pain scales and EQ-5D versions; a
superseded and a current cut of one site, a rejected file; rows written with the
contract's variations, and a few rows planted for each rejection reason and warning.
`EXPECTED` lists what the build must produce from it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from registry import warehouse as warehouse_db
from registry.landing.schema import SHEET_FIELDS, ensure_landing_schema

SHEET_NAMES = {"patients": "Patients", "visits": "Visits", "events": "Events", "exits": "Exits"}

SITES = [
    # site_id, name, country, region, language, date_order, pain_scale, eq5d_version
    ("US-001", "Site one", "US", "United States", "en", "MDY", "NRS11", "3L"),
    ("DE-001", "Klinik eins", "DE", "Western Europe", "de", "DMY", "VAS100", "5L"),
    ("BR-001", "Hospital um", "BR", "Latin America", "pt", "DMY", "NRS11", "3L"),
    ("NL-001", "Ziekenhuis een", "NL", "Western Europe", "nl", "YMD", "VAS100", "3L"),
]

# delivery_id -> (site_id, file_name, data_cut, status, reason)
DELIVERIES = {
    "us-old": ("US-001", "us_2017-01-31.xlsx", "2017-01-31", "superseded", None),
    "us-cur": ("US-001", "us_2017-07-31.xlsx", "2017-07-31", "current", None),
    "de-cur": ("DE-001", "export 20170731.xlsx", "2017-07-31", "current", None),
    "br-cur": ("BR-001", "br_2017-07-31.xlsx", "2017-07-31", "current", None),
    "br-bad": ("BR-001", "br_2017-08-01.xlsx", "2017-08-01", "rejected", "unreadable_workbook: not a zip file"),
    "nl-cur": ("NL-001", "nl_2017-06-30.xlsx", "2017-06-30", "current", None),
}


def key(site: str, ref: str | None) -> str | None:
    """Stand-in for the ingestion's keyed pseudonym (never a raw reference)."""
    if ref is None:
        return None
    return hashlib.sha256(f"{site}|{ref}".encode()).hexdigest()[:24]


# Rows per delivery and sheet: (source_row, patient_ref, {field: text}, planted reasons or None)
P = "patients"; V = "visits"; E = "events"; X = "exits"
ROWS = {
    ("us-old", P): [
        (5, "P1", dict(sex="M", age_at_implant="60", implant_date="03/15/2015", cancer_type="NSCLC", drugs="Infumorph"), None),
    ],
    ("us-old", V): [
        (5, "P1", dict(visit_date="03/10/2015", pain_score="99"), "pain_out_of_range"),  # superseded: not listed
    ],
    ("us-cur", P): [
        (5, "P1", dict(sex="M", age_at_implant="60", implant_date="03/15/2015", implant_type="Initial",
                       cancer_type="NSCLC", drugs="Infumorph + Prialt", pain_location="Spine/back; abdominal"), None),
        (6, "P2", dict(sex="female", birth_date="1950-05-05", implant_date="42005", implant_type="replacement",
                       cancer_type="C50.9", drugs="morphine 10 mg/ml, bupivacaine", pain_location="N/A"), None),
        (7, "P3", dict(sex="F", age_at_implant="15", implant_date="2014-06-01", cancer_type="Lungenkarzinom",
                       drugs="Dilaudid"), None),
        (8, "P4", dict(sex="m", birth_year="1913", implant_date="6/1/14", cancer_type="weird cancer xyz",
                       drugs="morphine and clonidine"), None),
        (9, None, dict(sex="M", age_at_implant="50", implant_date="2015-01-01"), "missing_patient_ref"),
        (10, "P5", dict(sex="M", age_at_implant="50", implant_date="2015-01-01"), "duplicate_patient_ref"),
        (11, "P5", dict(sex="F", age_at_implant="51", implant_date="2015-01-02"), "duplicate_patient_ref"),
        (12, "P6", dict(sex="M", age_at_implant="50", implant_date="NA"), "missing_date"),
        (13, "P7", dict(sex="M", age_at_implant="50", implant_date="02/31/2015"), "unparseable_date"),
        (14, "P8", dict(sex="M", age_at_implant="50", implant_date="2017-08-15"), "date_after_data_cut"),
    ],
    ("us-cur", V): [
        (5, "P1", dict(visit_date="03/10/2015", visit_label="Baseline", pain_score="7", mobility="2", self_care="1",
                       usual_activities="2", pain_discomfort="3", anxiety_depression="2", eq_vas="40"), None),
        (6, "P1", dict(visit_date="03/01/2015", visit_label="baseline", pain_score="8"), None),
        (7, "P1", dict(visit_date="09/14/2015", visit_label="6 months", pain_score="7/10", eq5d_state="11223"), None),
        (8, "P1", dict(visit_date="10/01/2015", visit_label="M6", pain_score="5"), None),
        (9, "P1", dict(visit_date="03/15/2016", visit_label="M12", pain_score="7,5", eq5d_state="33333"), None),
        (10, "P1", dict(visit_date="01/15/2017", visit_label="unscheduled", pain_score="6"), None),
        (11, "P1", dict(visit_date="08/01/2016", visit_label="6 months", pain_score="6"), None),
        (12, "P9", dict(visit_date="03/10/2015", pain_score="7"), "unknown_patient_ref"),
        (13, "P5", dict(visit_date="03/10/2015", pain_score="7"), "unknown_patient_ref"),
        (14, "P2", dict(visit_date="01/02/2015", pain_score="11"), "pain_out_of_range"),
        (15, "P2", dict(visit_date="01/02/2015", mobility="4", self_care="1", usual_activities="1",
                        pain_discomfort="1", anxiety_depression="1"), "eq5d_level_out_of_range"),
        (16, "P2", dict(visit_date="01/02/2015", eq_vas="101"), "eq_vas_out_of_range"),
        (17, "P2", dict(visit_date="n.a.", pain_score="5"), "missing_date"),
        (18, "P2", dict(visit_date="08/02/2017", pain_score="5"), "date_after_data_cut"),
        (19, "P2", dict(visit_date="13/13/2015", pain_score="5"), "unparseable_date"),
    ],
    ("us-cur", E): [
        (5, "P1", dict(onset_date="06/01/2015", event_term="Pocket infection", intervention="explant and replacement",
                       serious="yes"), None),
        (6, "P2", dict(onset_date="2015-02-01", event_term="CSF leak", intervention="none", serious="No"), None),
        (7, "P2", dict(onset_date="2014-12-01", event_term="CSF leak"), "before_implant"),
        (8, "P9", dict(onset_date="2015-12-01", event_term="CSF leak"), "unknown_patient_ref"),
        (9, None, dict(onset_date="2015-12-01", event_term="CSF leak"), "missing_patient_ref"),
    ],
    ("us-cur", X): [
        (5, "P1", dict(exit_date="06/01/2016", exit_reason="Death"), None),
        (6, "P2", dict(exit_date="2016-01-01", exit_reason="Lost to follow-up"), None),
        (7, "P3", dict(exit_date="2016-01-01", exit_reason="death"), "duplicate_exit"),
        (8, "P3", dict(exit_date="2016-02-01", exit_reason="death"), "duplicate_exit"),
        (9, "P4", dict(exit_date="2014-01-01", exit_reason="death"), "before_implant"),
    ],
    ("de-cur", P): [
        (3, "D1", dict(sex="W", age_at_implant="55", implant_date="15.03.2015", implant_type="Erstimplantation",
                       cancer_type="Bronchialkarzinom", drugs="Morphin/Clonidin", pain_location="Rücken")),
        (4, "D2", dict(sex="männlich", birth_date="1.6.44", implant_date="1.6.14", implant_type="Pumpenwechsel",
                       cancer_type="C18.7", drugs="Hydromorphon und Bupivacain")),
    ],
    ("de-cur", V): [
        (3, "D1", dict(visit_date="10.03.2015", visit_label="Ausgangswert", pain_score="70 mm", eq5d_state="11111",
                       eq_vas="55")),
        (4, "D1", dict(visit_date="14.09.2015", visit_label="6 Monate", pain_score="65", eq5d_state="55555")),
        (5, "D1", dict(visit_date="15.03.2016", visit_label="12 Monate", pain_score="6,5", eq5d_state="12345")),
        (6, "D1", dict(visit_date="16.03.2016", pain_score="120"), "pain_out_of_range"),
        (7, "D1", dict(visit_date="16.03.2016", eq5d_state="61111"), "eq5d_level_out_of_range"),
    ],
    ("de-cur", E): [
        (3, "D1", dict(onset_date="01.07.2015", event_term="Katheterokklusion", intervention="Katheterrevision",
                       serious="nein")),
    ],
    ("de-cur", X): [
        (3, "D2", dict(exit_date="01.01.2016", exit_reason="verstorben")),
    ],
    ("br-cur", P): [
        (2, "B1", dict(sex="feminino", age_at_implant="62", implant_date="02/03/2015", implant_type="inicial",
                       cancer_type="câncer de pulmão", drugs="morfina", pain_location="coluna")),
        (3, "B2", dict(sex="masculino", age_at_implant="70", implant_date="2014-05-05",
                       cancer_type="carcinoma pulmonar", drugs="Dilaudid")),
    ],
    ("br-cur", V): [
        (2, "B1", dict(visit_date="01/03/2015", visit_label="Linha de base", pain_score="7,5", mobility="1",
                       self_care="1", usual_activities="2", pain_discomfort="2", anxiety_depression="3")),
    ],
    ("br-cur", E): [
        (2, "B1", dict(onset_date="01/06/2015", event_term="infecção da loja",
                       intervention="irrigação e desbridamento; antibióticos", serious="sim")),
    ],
    ("br-cur", X): [
        (2, "B1", dict(exit_date="01/06/2016", exit_reason="óbito")),
        (3, "B2", dict(exit_date="01/06/2016", exit_reason="transferido")),
    ],
    ("nl-cur", P): [
        (4, "N1", dict(sex="V", age_at_implant="58", implant_date="15-03-02", cancer_type="longkanker",
                       drugs="morfine")),
    ],
    ("nl-cur", V): [
        (4, "N1", dict(visit_date="15-02-27", visit_label="nulmeting", pain_score="7/10", eq5d_state="21232")),
    ],
}

EXPECTED = {
    "n_patients": 9,
    "n_events": 4,
    "n_exits": 5,
    "warnings": {("us-cur", "patients", 7, "age_under_18"), ("us-cur", "patients", 8, "age_over_100"),
                 ("us-cur", "visits", 11, "visit_off_schedule"), ("us-cur", "visits", 11, "visit_label_mismatch"),
                 ("us-cur", "patients", 8, "unmapped_term")},
    "unmapped": {("US-001", "cancer_type", "weird cancer xyz")},
}


def planted_rejections() -> set[tuple[str, str, int, str]]:
    """(delivery_id, sheet_kind, source_row, reasons) of every fault planted in a current delivery."""
    out = set()
    for (delivery, sheet), rows in ROWS.items():
        if DELIVERIES[delivery][3] != "current":
            continue
        for row in rows:
            if len(row) == 4 and row[3]:
                out.add((delivery, sheet, row[0], row[3]))
    return out


def _sheet_records(delivery: str, sheet: str, rows: list) -> list[dict]:
    site, file_name, data_cut, _, _ = DELIVERIES[delivery]
    records = []
    for row in rows:
        source_row, ref, values = row[0], row[1], row[2]
        rec = {"load_id": "load-1", "delivery_id": delivery, "site_id": site, "file_name": file_name,
               "sheet_name": SHEET_NAMES[sheet], "source_row": source_row, "file_sha256": "0" * 64,
               "data_cut": data_cut, "patient_key": key(site, ref)}
        rec.update({f: values.get(f) for f in SHEET_FIELDS[sheet]})
        records.append(rec)
    return records


def _insert(con, table: str, records: list[dict]) -> None:
    """Insert rows by column name into a table created by the project's DDL (columns not
    given stay null, as in the landing zone)."""
    frame = pd.DataFrame.from_records(records).astype("object")
    frame = frame.where(frame.notna(), None)
    con.register("rows_df", frame)
    con.execute(f"insert into {table} by name select * from rows_df")
    con.unregister("rows_df")


def build_landing(db_path: Path) -> None:
    """Write the landing schema into the DuckDB file at db_path, with the ingestion's own DDL."""
    con = warehouse_db.connect(db_path)
    try:
        ensure_landing_schema(con)
        loaded_at = pd.Timestamp("2017-08-02 10:00:00")
        _insert(con, "landing.site_master", [
            dict(zip(["site_id", "site_name", "country", "region", "language", "date_order", "pain_scale",
                      "eq5d_version"], site), loaded_at=loaded_at)
            for site in SITES])
        _insert(con, "landing.deliveries", [
            {"delivery_id": d, "site_id": s, "file_path": f"{s}/{f}", "file_name": f, "file_sha256": "0" * 64,
             "size_bytes": 1000, "data_cut": c, "data_cut_source": "file_name", "arrived_at": loaded_at,
             "status": st, "reason": r, "load_id": "load-1", "sheets": "{}", "ignored_sheets": "[]",
             "modified_at": loaded_at}
            for d, (s, f, c, st, r) in DELIVERIES.items()])
        _insert(con, "landing.note_rows", [
            {"delivery_id": "us-cur", "sheet_name": "Patients", "source_row": 40, "text": "Total: 4 patients"}])
        for sheet in SHEET_FIELDS:
            _insert(con, f"landing.{sheet}", [
                rec for (d, s), rows in ROWS.items() if s == sheet for rec in _sheet_records(d, s, rows)])
    finally:
        con.close()
