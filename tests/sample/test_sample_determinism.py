"""Same seed, same sample; scale multiplies patients and sites."""
import openpyxl
import pandas as pd
import pytest

from registry.sample import SampleSummary, generate
from registry.sample.sites import site_plan


def _values(path):
    return [list(ws.iter_rows(values_only=True)) for ws in openpyxl.load_workbook(path).worksheets]


def test_same_seed_same_sample(tmp_path):
    a = generate(tmp_path / "a", scale=0.05, seed=7, faults={"pain_out_of_range": 1, "duplicate_file": 1})
    b = generate(tmp_path / "b", scale=0.05, seed=7, faults={"pain_out_of_range": 1, "duplicate_file": 1})
    c = generate(tmp_path / "c", scale=0.05, seed=8)
    truth_files = sorted(p.relative_to(a.truth_dir) for p in a.truth_dir.rglob("*.*"))
    assert truth_files == sorted(p.relative_to(b.truth_dir) for p in b.truth_dir.rglob("*.*"))
    for rel in truth_files:
        assert (a.truth_dir / rel).read_bytes() == (b.truth_dir / rel).read_bytes(), rel
    books = sorted(p.relative_to(a.inbox) for p in a.inbox.rglob("*.xlsx"))
    for rel in books[:5]:
        assert _values(a.inbox / rel) == _values(b.inbox / rel)
    assert (a.truth_dir / "patients.csv").read_bytes() != (c.truth_dir / "patients.csv").read_bytes()
    assert isinstance(a, SampleSummary) and str(a).startswith("sample: 70 patients")


def test_scale_changes_counts(tmp_path):
    small = generate(tmp_path / "s", scale=0.05)
    larger = generate(tmp_path / "l", scale=0.1)
    assert (small.n_patients, larger.n_patients) == (70, 140)
    p = pd.read_csv(larger.truth_dir / "patients.csv")
    assert len(p) == 140 and p["age_at_implant"].min() == 13 and p["age_at_implant"].max() == 93
    assert small.n_sites == larger.n_sites == 25   # below 1 every planned site is kept


def test_scale_multiplies_sites():
    three = site_plan(3)
    assert len(three) == 75 and three["site_id"].is_unique
    assert three["site_id"].str.fullmatch(r"[A-Z]{2}-\d{3}").all()
    hundred = site_plan(100)
    assert len(hundred) == 2500 and hundred["site_id"].is_unique
    assert hundred["site_id"].str.fullmatch(r"[A-Z]{2}-\d{4}").all()


def test_unknown_fault_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown fault"):
        generate(tmp_path, scale=0.05, faults={"no_such_fault": 1})
