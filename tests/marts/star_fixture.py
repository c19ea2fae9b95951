"""A small star schema (warehouse.* and dq.*) with known patients, so every
mart figure can be worked out by hand.

21 patients: United States 12 (sites US-001, US-002), Western Europe 6
(DE-001), Latin America 3 (BR-001). Data cut 2017-07-31 everywhere.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from registry import warehouse as warehouse_db

DATA_CUT = date(2017, 7, 31)

SITES = [
    # site_id, site_name, country, region, language, date_order, pain_scale, eq5d_version
    ("US-001", "Site A", "US", "United States", "en", "MDY", "NRS11", "5L"),
    ("US-002", "Site B", "US", "United States", "en", "MDY", "NRS11", "5L"),
    ("DE-001", "Site C", "DE", "Western Europe", "de", "DMY", "VAS100", "3L"),
    ("BR-001", "Site D", "BR", "Latin America", "pt", "DMY", "NRS11", "3L"),
]

LABELS = {"lung": "lung", "breast": "breast", "colorectal": "colon/rectal",
          "pancreatic": "pancreatic", "prostate": "prostate", "gastric": "gastric"}

CATEGORY = {"death": "death", "device_explanted": "explant_or_discontinuation",
            "therapy_discontinued": "explant_or_discontinuation",
            "lost_to_follow_up": "other", "transfer_of_care": "other"}

PATIENTS = [
    # key, site, sex, age, cancer, implant date, exit reason, exit day from implant
    ("u01", "US-001", "female", 45, "lung", "2014-01-10", "death", 200),
    ("u02", "US-001", "female", 55, "lung", "2014-03-01", "death", 100),
    ("u03", "US-001", "male", 62, "colorectal", "2014-06-01", "death", 300),
    ("u04", "US-001", "female", 70, "lung", "2015-01-15", "device_explanted", 150),
    ("u05", "US-001", "male", 13, "pancreatic", "2015-02-01", "lost_to_follow_up", 400),
    ("u06", "US-001", "female", 93, "breast", "2015-05-05", None, None),
    ("u07", "US-001", "male", 58, "lung", "2015-07-07", "death", 100),
    ("u08", "US-001", "female", 61, "breast", "2016-01-01", None, None),
    ("u09", "US-001", "male", 66, "prostate", "2016-02-02", "death", 50),
    ("u10", "US-001", "female", 49, "colorectal", "2016-03-03", None, None),
    ("u11", "US-002", "male", 75, "lung", "2016-06-01", None, None),
    ("u12", "US-002", "male", 80, "lung", "2016-07-01", "death", 60),
    ("w01", "DE-001", "female", 52, "lung", "2014-02-02", "death", 250),
    ("w02", "DE-001", "male", 64, "lung", "2014-04-04", "death", 365),
    ("w03", "DE-001", "female", 57, "breast", "2015-04-04", "transfer_of_care", 90),
    ("w04", "DE-001", "male", 71, "pancreatic", "2015-08-08", None, None),
    ("w05", "DE-001", "female", 59, "colorectal", "2016-05-05", "death", 30),
    ("w06", "DE-001", "male", 68, "lung", "2016-06-06", None, None),
    ("b01", "BR-001", "female", 48, "breast", "2015-09-09", "death", 120),
    ("b02", "BR-001", "female", 54, "lung", "2016-01-20", None, None),
    ("b03", "BR-001", "male", 60, "gastric", "2016-04-04", "therapy_discontinued", 200),
]

ASSESSMENTS = [
    # key, window, is_window_choice, pain (0-10), eq5d index
    ("u01", "baseline", True, 8.0, 0.5), ("u01", "6 months", True, 5.0, 0.7),
    ("u02", "baseline", True, 7.0, 0.3), ("u02", "6 months", True, 6.0, 0.6),
    ("u04", "baseline", True, 9.0, 0.4), ("u04", "6 months", True, 4.0, 0.4),
    ("u04", "12 months", True, 3.0, None),
    ("u06", "baseline", True, 6.0, None), ("u06", "6 months", True, 6.0, None),
    ("u06", "12 months", True, 5.0, None),
    ("u08", "baseline", True, 7.5, None), ("u08", "6 months", True, 3.0, None),
    ("w01", "baseline", True, 8.0, 0.6), ("w01", "6 months", True, 7.0, 0.65),
    ("w03", "baseline", True, 6.0, None), ("w03", "6 months", True, 2.0, None),
    ("w03", "12 months", True, 3.0, None),
    ("b01", "baseline", True, 9.0, 0.2), ("b01", "6 months", True, 5.0, 0.5),
    # Not pairs: the chosen baseline has no pain (an unchosen one has) ...
    ("w04", "baseline", True, None, None), ("w04", "baseline", False, 8.0, None),
    ("w04", "6 months", True, 5.0, None),
    # ... a follow-up visit that was not the window's choice, a visit outside every window.
    ("u10", "baseline", True, 7.0, None), ("u10", "6 months", False, 3.0, None),
    ("u10", None, False, 2.0, None),
]
# Follow-up visit days from implant per window (baseline on the implant day).
WINDOW_DAY = {"baseline": 0, "6 months": 180, "12 months": 370, "outside": 900}

EVENTS = [
    # key, event_type, interventions, is_infection, is_surgical
    ("u01", "infection_pocket", "pocket_revision", True, True),
    ("u01", "infection_catheter", "pump_explant", True, True),
    ("u02", "infection_pocket", "antibiotics_only", True, False),
    ("u03", "catheter_occlusion", "catheter_revision", False, True),
    ("b01", "meningitis", "pump_explant;antibiotics_only", True, True),
]

DELIVERIES = [
    # site, delivery_id, file_name, data_cut, status, reason, received, accepted, rejected
    ("US-001", "d0", "US-001 2016-12-31.xlsx", "2016-12-31", "superseded", None, 40, 40, 0),
    ("US-001", "d1", "US-001 2017-07-31.xlsx", "2017-07-31", "current", None, 50, 47, 3),
    ("US-002", "d2", "us002_20170731.xlsx", "2017-07-31", "current", None, 6, 6, 0),
    ("DE-001", "d3", '=HYPERLINK("http://x") 2017-07-31.xlsx', "2017-07-31", "current", None,
     30, 29, 1),
    ("BR-001", "d4", "BR-001 2017-07-31.xlsx", "2017-07-31", "current", None, 9, 9, 0),
    ("BR-001", "d5", "BR-001 2017-08-01.xlsx", "2017-08-01", "rejected",
     "unreadable_workbook: not a readable xlsx", 0, 0, 0),
]

REJECTIONS = [
    # site, delivery, file, sheet_kind, source_row, reasons
    ("US-001", "d1", "US-001 2017-07-31.xlsx", "visits", 12, "date_after_data_cut;pain_out_of_range"),
    ("US-001", "d1", "US-001 2017-07-31.xlsx", "visits", 15, "pain_out_of_range"),
    ("US-001", "d1", "US-001 2017-07-31.xlsx", "events", 4, "unknown_patient_ref"),
    ("DE-001", "d3", '=HYPERLINK("http://x") 2017-07-31.xlsx', "patients", 9,
     "duplicate_patient_ref"),
]

DDL = """
create schema if not exists warehouse;
create schema if not exists dq;
create table warehouse.dim_site(site_id varchar, site_name varchar, country varchar,
    region varchar, language varchar, date_order varchar, pain_scale varchar, eq5d_version varchar);
create table warehouse.dim_patient(patient_key varchar, site_id varchar, region varchar,
    sex varchar, birth_year integer, age_at_implant integer, age_band varchar,
    cancer_type varchar, cancer_type_label varchar, implant_date date, implant_type varchar,
    pain_locations varchar);
create table warehouse.fct_assessment(assessment_id varchar, patient_key varchar,
    site_id varchar, visit_date date, days_from_implant integer, visit_label varchar,
    visit_window varchar, is_window_choice boolean, pain_score double, mobility integer,
    self_care integer, usual_activities integer, pain_discomfort integer,
    anxiety_depression integer, eq5d_version varchar, eq5d_state varchar,
    eq5d_index double, eq_vas double);
create table warehouse.fct_event(event_id varchar, patient_key varchar, site_id varchar,
    onset_date date, days_from_implant integer, event_type varchar, interventions varchar,
    is_infection boolean, is_surgical boolean, is_serious boolean);
create table warehouse.fct_registry_exit(patient_key varchar, site_id varchar,
    exit_date date, days_from_implant integer, exit_reason varchar, exit_category varchar);
create table warehouse.fct_patient_follow_up(patient_key varchar, site_id varchar,
    region varchar, implant_date date, data_cut date, last_contact_date date, exit_date date,
    exit_reason varchar, exit_category varchar, status_at_data_cut varchar,
    days_of_follow_up integer, died boolean, days_to_death_or_censor integer);
create table dq.dq_delivery_summary(site_id varchar, delivery_id varchar, file_name varchar,
    data_cut date, status varchar, reason varchar, rows_received integer,
    rows_accepted integer, rows_rejected integer);
create table dq.dq_rejections(site_id varchar, delivery_id varchar, file_name varchar,
    sheet_kind varchar, sheet_name varchar, source_row integer, reasons varchar);
"""


def _frames(patients=PATIENTS, assessments=ASSESSMENTS, events=EVENTS) -> dict[str, pd.DataFrame]:
    sites = pd.DataFrame(SITES, columns=["site_id", "site_name", "country", "region", "language",
                                         "date_order", "pain_scale", "eq5d_version"])
    region = dict(zip(sites["site_id"], sites["region"]))
    p = pd.DataFrame(patients, columns=["patient_key", "site_id", "sex", "age_at_implant",
                                        "cancer_type", "implant_date", "exit_reason", "exit_day"])
    p["implant_date"] = pd.to_datetime(p["implant_date"]).dt.date
    p["region"] = p["site_id"].map(region)
    p["cancer_type_label"] = p["cancer_type"].map(LABELS)
    p["birth_year"] = [d.year - a for d, a in zip(p["implant_date"], p["age_at_implant"])]
    exited = p["exit_reason"].notna()
    implant = pd.to_datetime(p["implant_date"])
    exit_date = (implant + pd.to_timedelta(p["exit_day"], unit="D")).dt.date.where(exited, None)
    days = p["exit_day"].where(exited, (pd.Timestamp(DATA_CUT) - implant).dt.days)
    follow_up = pd.DataFrame({
        "patient_key": p["patient_key"], "site_id": p["site_id"], "region": p["region"],
        "implant_date": p["implant_date"], "data_cut": DATA_CUT, "last_contact_date": None,
        "exit_date": exit_date, "exit_reason": p["exit_reason"],
        "exit_category": p["exit_reason"].map(CATEGORY),
        "status_at_data_cut": exited.map({True: "exited", False: "active"}),
        "days_of_follow_up": days, "died": p["exit_reason"].eq("death"),
        "days_to_death_or_censor": days,
    })
    a = pd.DataFrame(assessments, columns=["patient_key", "visit_window", "is_window_choice",
                                           "pain_score", "eq5d_index"])
    a = a.merge(p[["patient_key", "site_id", "implant_date"]], on="patient_key")
    a["days_from_implant"] = a["visit_window"].fillna("outside").map(WINDOW_DAY)
    a["visit_date"] = (pd.to_datetime(a["implant_date"])
                       + pd.to_timedelta(a["days_from_implant"], unit="D")).dt.date
    a["assessment_id"] = [f"a{i}" for i in range(len(a))]
    e = pd.DataFrame(events, columns=["patient_key", "event_type", "interventions",
                                      "is_infection", "is_surgical"])
    e = e.merge(p[["patient_key", "site_id", "implant_date"]], on="patient_key")
    e["event_id"] = [f"e{i}" for i in range(len(e))]
    e["days_from_implant"] = 30
    e["onset_date"] = (pd.to_datetime(e["implant_date"]) + pd.Timedelta(days=30)).dt.date
    d = pd.DataFrame(DELIVERIES, columns=["site_id", "delivery_id", "file_name", "data_cut",
                                          "status", "reason", "rows_received", "rows_accepted",
                                          "rows_rejected"])
    d["data_cut"] = pd.to_datetime(d["data_cut"]).dt.date
    r = pd.DataFrame(REJECTIONS, columns=["site_id", "delivery_id", "file_name", "sheet_kind",
                                          "source_row", "reasons"])
    r["sheet_name"] = r["sheet_kind"]
    return {
        "warehouse.dim_site": sites,
        "warehouse.dim_patient": p.drop(columns=["exit_reason", "exit_day"]),
        "warehouse.fct_assessment": a.drop(columns="implant_date"),
        "warehouse.fct_event": e.drop(columns="implant_date"),
        "warehouse.fct_patient_follow_up": follow_up,
        "dq.dq_delivery_summary": d,
        "dq.dq_rejections": r,
    }


def build_star(path: Path, patients=PATIENTS, assessments=ASSESSMENTS, events=EVENTS) -> Path:
    """Write the fixture star schema to the DuckDB file ``path`` (other
    patients, assessments and events, in the same shapes, can be given)."""
    con = warehouse_db.connect(path)
    try:
        con.execute(DDL)
        for table, df in _frames(patients, assessments, events).items():
            con.register("_fixture", df)
            columns = ", ".join(f'"{c}"' for c in df.columns)
            con.execute(f"insert into {table} ({columns}) select {columns} from _fixture")
            con.unregister("_fixture")
    finally:
        con.close()
    return path
