"""`generate`: the sample inbox, its site master and the truth, from one seed."""
from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import deliveries, model, render, truth, workbook
from . import faults as faults_mod
from .population import data_cut as model_data_cut
from .sites import SITE_MASTER_COLUMNS, site_plan

SHEET_KINDS = ("patients", "visits", "events", "exits")


@dataclass(frozen=True)
class SampleSummary:
    inbox: Path
    sites_csv: Path
    truth_dir: Path
    n_sites: int
    n_files: int
    n_patients: int

    def __str__(self) -> str:
        return (f"sample: {self.n_patients} patients at {self.n_sites} sites in {self.n_files} files "
                f"-> {self.inbox} (site master {self.sites_csv.name}, truth {self.truth_dir})")


def generate(out_dir: Path, *, scale: float = 1, seed: int = 20170731,
             faults: Mapping[str, int] | None = None) -> SampleSummary:
    """Write out_dir/inbox/<SITE_ID>/*.xlsx, out_dir/sites.csv and out_dir/truth/."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    wanted = faults_mod.check(faults)
    out_dir = Path(out_dir)
    inbox, truth_dir = out_dir / "inbox", out_dir / "truth"
    for d in (inbox, truth_dir):
        if d.exists():
            shutil.rmtree(d)
    inbox.mkdir(parents=True)
    cut = str(model_data_cut())
    sites = site_plan(scale)
    reg = model.build(sites, scale, seed)
    reg.visits["days_from_implant"] = reg.visits["day"]
    reg.visits["chosen_window"] = truth.chosen_windows(reg.visits, reg.patients["implant_date"].to_numpy())
    if not (reg.visits["chosen_window"] == reg.visits["visit_window"]).all():
        raise AssertionError("planned visit windows differ from the pipeline's choice rule")
    sites[SITE_MASTER_COLUMNS].to_csv(out_dir / "sites.csv", index=False)

    rng = np.random.default_rng([seed, 3])
    styles = [render.site_style(sites.iloc[i], seed, i) for i in range(len(sites))]
    idents = [render.identifiers_for(sites.iloc[i], reg.patients.loc[reg.patients["site_idx"] == i, "patient_ref"],
                                     seed, i) for i in range(len(sites))]
    current = {sites.iloc[i]["site_id"]: deliveries.tables(reg, i, cut) for i in range(len(sites))}
    faults_mod.plant_rows(rng, wanted, current, sites, pd.Timestamp(cut))

    files, rejections, ident_rows, warn_rows = [], [], [], []
    for i, site in sites.iterrows():
        for c in deliveries.cuts_of(site, cut):
            is_current = c == cut
            t = current[site["site_id"]] if is_current else deliveries.tables(reg, i, c)
            rel = f"{site['site_id']}/{deliveries.file_name(site, c)}"
            sheets, kinds = render.sheets(styles[i], t, idents[i], c)
            rows_of = workbook.write(inbox / rel, sheets)
            n_rows, n_bad = 0, 0
            for kind, sheet in zip(SHEET_KINDS, sheets):
                rownum = rows_of[sheet.name]
                bad = t[kind]["_fault"].to_numpy() != ""
                n_rows += len(rownum)
                n_bad += int(bad.sum())
                if bad.any():
                    rejections.append(pd.DataFrame({"file_path": rel, "sheet_kind": kind, "source_row": rownum[bad],
                                                    "reasons": t[kind]["_fault"].to_numpy()[bad]}))
                for col in sheet.cells.columns:
                    if col in render.IDENTIFIER_SHEETS["patients"]:
                        vals = sheet.cells[col].dropna()
                        ident_rows.append(pd.DataFrame({"file_path": rel, "sheet_kind": kind, "column": col,
                                                        "value": vals.astype(str).to_numpy()}))
                if kind == "patients" and is_current:
                    young = (t[kind]["_fault"] == "") & (pd.to_numeric(t[kind]["age_at_implant"]) < 18)
                    if young.any():
                        warn_rows.append(pd.DataFrame({"file_path": rel, "sheet_kind": kind,
                                                       "source_row": rownum[young.to_numpy()],
                                                       "patient_ref": t[kind]["patient_ref"][young].to_numpy(),
                                                       "warning": "age_under_18"}))
            files.append({"file_path": rel, "site_id": site["site_id"], "file_name": rel.split("/", 1)[1],
                          "data_cut": c, "expected_status": "current" if is_current else "superseded",
                          "reason_code": "", "rows_received": n_rows, "rows_accepted": n_rows - n_bad,
                          "rows_rejected": n_bad})
            os.utime(inbox / rel, (0, pd.Timestamp(c).timestamp()))
    files += faults_mod.plant_files(rng, wanted, inbox, sites, styles, current, idents, files, cut)

    files_df = pd.DataFrame(files).sort_values("file_path", kind="stable").reset_index(drop=True)
    files_df["status"] = files_df["expected_status"]
    rej = (pd.concat(rejections, ignore_index=True) if rejections
           else pd.DataFrame(columns=["file_path", "sheet_kind", "source_row", "reasons"]))
    idf = (pd.concat(ident_rows, ignore_index=True).drop_duplicates() if ident_rows
           else pd.DataFrame(columns=["file_path", "sheet_kind", "column", "value"]))
    wdf = (pd.concat(warn_rows, ignore_index=True) if warn_rows
           else pd.DataFrame(columns=["file_path", "sheet_kind", "source_row", "patient_ref", "warning"]))
    truth.write(truth_dir, reg, files_df, rej, idf, wdf, cut)
    return SampleSummary(inbox, out_dir / "sites.csv", truth_dir, len(sites), len(files_df), len(reg.patients))
