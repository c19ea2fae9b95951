"""Planted faults: extra rows (or files) the pipeline must reject, never changing the
valid population. Row faults go into current deliveries only."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

ROW_FAULTS = ("missing_patient_ref", "unknown_patient_ref", "duplicate_patient_ref", "missing_date",
              "unparseable_date", "date_after_data_cut", "before_implant", "pain_out_of_range",
              "eq5d_level_out_of_range", "eq_vas_out_of_range", "duplicate_exit")
FILE_FAULTS = ("unreadable_workbook", "unknown_site", "no_patients_sheet", "missing_required_column",
               "duplicate_file", "not_a_workbook", "outside_site_folder")
FAULT_KINDS = ROW_FAULTS + FILE_FAULTS
DAY = pd.Timedelta(days=1)


def check(faults: Mapping[str, int] | None) -> dict[str, int]:
    faults = dict(faults or {})
    unknown = set(faults) - set(FAULT_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds: {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
    return {k: int(v) for k, v in faults.items() if int(v) > 0}


def _impossible_date(site) -> str:
    sep = site["date_sep"] or "/"
    parts = {"D": "31", "M": "02", "Y": "2015"}
    return sep.join(parts[c] for c in site["date_order"])


def _visit(ref, date, pain, site, **extra) -> dict:
    row = {"patient_ref": ref, "visit_date": date, "visit_label": "unscheduled", "pain_native": pain,
           "mobility": np.nan, "self_care": np.nan, "usual_activities": np.nan, "pain_discomfort": np.nan,
           "anxiety_depression": np.nan, "eq_vas": np.nan}
    row.update(extra)
    return row


def plant_rows(rng, faults: dict[str, int], current: dict[str, dict[str, pd.DataFrame]],
               sites: pd.DataFrame, data_cut: pd.Timestamp) -> None:
    """Adds fault rows (with their reasons in `_fault`) to the current delivery tables."""
    site_ids = list(current)
    by_id = sites.set_index("site_id")
    for kind in ROW_FAULTS:
        for i in range(faults.get(kind, 0)):
            if kind == "duplicate_exit":
                candidates = [s for s in site_ids if _actives(current[s]).size]
                if not candidates:
                    raise ValueError("no active patient to plant duplicate_exit on")
                sid = candidates[i % len(candidates)]
            else:
                sid = site_ids[int(rng.integers(len(site_ids)))]
            t, site = current[sid], by_id.loc[sid]
            pts = t["patients"][t["patients"]["_fault"] == ""]
            j = int(rng.integers(len(pts)))
            ref, implant = pts["patient_ref"].iloc[j], pd.Timestamp(pts["implant_date"].iloc[j])
            day1 = min(implant + DAY, data_cut)
            vas = site["pain_scale"] == "VAS100"
            pain = 50.0 if vas else 5.0
            new = {"visits": [], "events": [], "exits": [], "patients": []}
            if kind == "missing_patient_ref":
                new["visits"].append(_visit(None, day1, pain, site))
            elif kind == "unknown_patient_ref":
                new["visits"].append(_visit(f"{ref.rsplit('-', 1)[0]}-9{i:03d}", day1, pain, site))
            elif kind == "duplicate_patient_ref":
                dup = pts.iloc[[j, j]].copy()
                dup["patient_ref"] = f"{ref.rsplit('-', 1)[0]}-8{i:03d}"
                new["patients"] += dup.drop(columns="_fault").to_dict("records")
            elif kind == "missing_date":
                new["visits"].append(_visit(ref, None, pain, site))
            elif kind == "pain_out_of_range":
                new["visits"].append(_visit(ref, day1, 140.0 if vas else 14.0, site))
            elif kind == "eq5d_level_out_of_range":
                top = 6 if site["eq5d_version"] == "5L" else 4
                new["visits"].append(_visit(ref, day1, pain, site, mobility=top, self_care=1, usual_activities=1,
                                            pain_discomfort=2, anxiety_depression=1, eq_vas=60))
            elif kind == "eq_vas_out_of_range":
                new["visits"].append(_visit(ref, day1, pain, site, mobility=1, self_care=1, usual_activities=2,
                                            pain_discomfort=2, anxiety_depression=1, eq_vas=150))
            elif kind in ("unparseable_date", "date_after_data_cut", "before_implant"):
                date = {"unparseable_date": _impossible_date(site),
                        "date_after_data_cut": data_cut + 20 * DAY,
                        "before_implant": implant - 10 * DAY}[kind]
                new["events"].append({"patient_ref": ref, "onset_date": date, "event_term": "csf_leak",
                                      "intervention": "none", "serious": "false"})
            elif kind == "duplicate_exit":
                act = _actives(t)
                aref = act[i // len(candidates) % len(act)]
                aimp = pd.Timestamp(pts.set_index("patient_ref").loc[aref, "implant_date"])
                date = min(aimp + 30 * DAY, data_cut)
                new["exits"] += [{"patient_ref": aref, "exit_date": date, "exit_reason": "lost_to_follow_up"},
                                 {"patient_ref": aref, "exit_date": date, "exit_reason": "transfer_of_care"}]
            for sheet, rows in new.items():
                if rows:
                    add = pd.DataFrame(rows)
                    add["_fault"] = kind
                    table = t[sheet]
                    at = int(rng.integers(len(table) + 1))
                    t[sheet] = pd.concat([table.iloc[:at], add, table.iloc[at:]], ignore_index=True)


def _actives(t: dict[str, pd.DataFrame]) -> np.ndarray:
    pts = t["patients"][t["patients"]["_fault"] == ""]["patient_ref"]
    exited = set(t["exits"]["patient_ref"])
    faulted = set(t["exits"].loc[t["exits"]["_fault"] != "", "patient_ref"])
    return np.array([r for r in pts if r not in exited and r not in faulted] or [], dtype=object)


def plant_files(rng, wanted: dict[str, int], inbox, sites, styles, current, idents, files, cut: str) -> list[dict]:
    """Writes the file-level faults; returns their rows for the truth's file list."""
    from . import deliveries, render, workbook

    out = []
    later = iter(range(1, 10_000))
    current_files = {f["site_id"]: f["file_path"] for f in files if f["expected_status"] == "current"}

    def record(rel, site_id, data_cut, status, reason):
        out.append({"file_path": rel, "site_id": site_id, "file_name": rel.rsplit("/", 1)[-1], "data_cut": data_cut,
                    "expected_status": status, "reason_code": reason,
                    "rows_received": 0, "rows_accepted": 0, "rows_rejected": 0})

    def later_name(i):
        day = str((pd.Timestamp(cut) + next(later) * DAY).date())
        return day, f"{sites.iloc[i]['site_id']}/{deliveries.file_name(sites.iloc[i], day)}"

    def info_sheet(text):
        return workbook.Sheet("Info", ["note"], pd.DataFrame({"note": [text]}))

    n = len(sites)
    for k in range(wanted.get("unreadable_workbook", 0)):
        i = k % n
        day, rel = later_name(i)
        data = (inbox / current_files[sites.iloc[i]["site_id"]]).read_bytes()
        if k % 2 == 0:
            blob = data[: len(data) // 2]                     # truncated download
        else:                                                  # password-protected files are OLE containers
            blob = bytes.fromhex("D0CF11E0A1B11AE1") + rng.bytes(4096)
        (inbox / rel).write_bytes(blob)
        record(rel, sites.iloc[i]["site_id"], day, "rejected", "unreadable_workbook")
    for k in range(wanted.get("unknown_site", 0)):
        i = k % n
        folder = f"ZZ-{901 + k}"
        rel = f"{folder}/{deliveries.file_name(sites.iloc[i], cut).replace(sites.iloc[i]['site_id'], folder)}"
        sh, _ = render.sheets(styles[i], current[sites.iloc[i]["site_id"]], idents[i], cut)
        workbook.write(inbox / rel, sh + [info_sheet(folder)])
        record(rel, folder, cut, "rejected", "unknown_site")
    for kind, opts in (("no_patients_sheet", {"only": ("visits", "events", "exits")}),
                       ("missing_required_column", {"drop_fields": ("implant_date",)})):
        for k in range(wanted.get(kind, 0)):
            i = (k + 1) % n
            day, rel = later_name(i)
            sh, _ = render.sheets(styles[i], current[sites.iloc[i]["site_id"]], idents[i], day, **opts)
            workbook.write(inbox / rel, sh)
            record(rel, sites.iloc[i]["site_id"], day, "rejected", kind)
    for k in range(wanted.get("duplicate_file", 0)):
        i = (k + 2) % n
        src = current_files[sites.iloc[i]["site_id"]]
        rel = src[: -len(".xlsx")] + ("_copy" if k < n else f"_copy{k}") + ".xlsx"
        (inbox / rel).write_bytes((inbox / src).read_bytes())
        record(rel, sites.iloc[i]["site_id"], cut, "duplicate", "duplicate_file")
    for k in range(wanted.get("not_a_workbook", 0)):
        i = k % n
        rel = f"{sites.iloc[i]['site_id']}/notes_{k + 1}.csv"
        (inbox / rel).write_text("note\nexport checked by the site coordinator\n")
        record(rel, sites.iloc[i]["site_id"], "", "ignored", "not_a_workbook")
    for k in range(wanted.get("outside_site_folder", 0)):
        rel = f"registry_export_{k + 1}_{cut}.xlsx"
        workbook.write(inbox / rel, [info_sheet("export without a site folder")])
        record(rel, "", cut, "ignored", "outside_site_folder")
    return out
