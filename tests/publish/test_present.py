"""One home for column facts: every published column is described, and values
are shown the same way by the report and the workbook."""
import csv
from datetime import date
from importlib import resources

import numpy as np
import pandas as pd

from registry.publish import present


def test_every_published_column_has_its_facts(fixture_marts):
    for mart, df in fixture_marts.items():
        for name in df.columns:
            c = present.column(mart, name)
            assert c.kind and c.label and c.description, (mart, name)
            if c.kind in ("number", "percent", "p"):
                assert c.decimals is not None, (mart, name)


def test_precision_follows_the_column_facts():
    eq5d = present.column("eq5d_outcomes", "ci_low")
    pain = present.column("pain_outcomes", "mean_change")
    pct = present.column("cohort_overview", "pct_female")
    p = present.column("pain_outcomes", "p_value")
    assert present.format_value(eq5d, -0.003389) == "-0.003"
    assert present.format_value(eq5d, -0.0004) == "0.000"  # never -0.000
    assert present.format_value(pain, -0.004) == "0.00"
    assert present.format_value(pain, 1.005) == "1.01"  # half-up, as printed
    assert present.format_value(pct, 56.593) == "56.6"
    assert present.format_value(p, 6.7e-07) == "<0.0001"
    assert present.format_value(p, 0.000704) == "0.0007"
    assert present.excel_format(p) == "[<0.0001]0.0E+00;0.0000"
    assert present.excel_format(eq5d) == "0.000"
    assert present.excel_format(pct) == "0.0"


def test_dates_and_labels():
    cut = present.column("site_data_quality", "data_cut")
    for value in (date(2017, 7, 31), pd.Timestamp("2017-07-31"), "2017-07-31T00:00:00",
                  np.datetime64("2017-07-31")):
        assert present.format_value(cut, value) == "2017-07-31"
    category = present.column("disposition", "exit_category")
    assert present.format_value(category, "explant_or_discontinuation") == "Explant or discontinuation"
    assert present.format_value(present.column("disposition", "region"), "All") == "All regions"
    assert present.format_value(present.column("cancer_types", "cancer_type"), "colon/rectal") == \
        "Colon/rectal"
    assert present.timestamp("2017-08-02T10:00:00+00:00") == "2017-08-02 10:00 UTC"


def test_suppressed_cells():
    n = present.column("cancer_types", "n_patients")
    rank = present.column("cancer_types", "rank")
    women = present.column("cohort_overview", "n_female")
    assert present.cell_text(n, pd.NA, True, 4) == "<5*"
    assert present.cell_text(n, pd.NA, True, 9) == "<10*"
    assert present.cell_text(rank, 3, True, 4) == present.NOT_AVAILABLE
    assert present.cell_text(rank, 3, False, 4) == "3"
    # small or withheld to protect a small one: the same mark
    assert present.cell_text(women, pd.NA, True, 4) == "<5*"
    assert "<3*" in present.suppression_legend(2)
    assert "No small-cell suppression" in present.suppression_legend(0)


def test_label_files_are_well_formed():
    for name, width in (("labels.csv", 8), ("columns.csv", 9)):
        with resources.files("registry.publish").joinpath(name).open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert {len(r) for r in rows} == {width}, name
        keys = [tuple(r[:2]) if name == "columns.csv" else r[0] for r in rows[1:]]
        assert len(keys) == len(set(keys)), name
