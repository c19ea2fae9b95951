"""Small-cell protection against the attacker's audit: no suppressed count can
be recovered from the rest of the published marts (totals included)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import warehouse as warehouse_db
from registry.config import PROJECT_ROOT
from registry.marts import audit, build_marts, count_disclosive
from registry.marts.disclosure_audit import count_rules
from registry.marts.small_cells import protected_marts, suppress_marts
from tests import tally

from .star_fixture import build_star

THRESHOLD = 4


def exact_and_published(con, *, complementary=True, small_cell_max=THRESHOLD):
    exact = build_marts(con, small_cell_max=0)
    marts = {k: v.drop(columns="suppressed", errors="ignore") for k, v in exact.items()}
    published = suppress_marts(marts, small_cell_max, protected_marts(), complementary=complementary)
    return exact, published


def cell(result: pd.DataFrame, quantity: str, region: str, contains: str = "") -> pd.Series:
    hit = result[(result["quantity"] == quantity) & (result["region"] == region)
                 & result["cell"].str.contains(contains, regex=False)]
    assert len(hit) == 1, (quantity, region, contains, result)
    return hit.iloc[0]


def assert_all_rows_equal(published, exact):
    """The All rows of every protected mart are the exact ones (nulls compared as nulls)."""
    for name in protected_marts():
        got, want = (m[name][m[name]["region"] == "All"].drop(columns="suppressed").reset_index(drop=True)
                     for m in (published, exact))
        pd.testing.assert_frame_equal(got.astype(object).where(got.notna(), None),
                                      want.astype(object).where(want.notna(), None), check_dtype=False)


# ---------------------------------------------------------------- the fixture star

def test_primary_suppression_alone_is_disclosive(star_con):
    """What was published before: every small cell could be solved."""
    _, primary_only = exact_and_published(star_con, complementary=False)
    result = audit(primary_only, THRESHOLD)
    n = count_disclosive(primary_only, THRESHOLD)
    print(f"disclosive cells with primary suppression only: {n}")
    assert n > 0
    # All minus the other regions: Latin America's 3 patients = 21 - 12 - 6.
    latam = cell(result, "patients", "Latin America")
    assert (latam.lower, latam.upper, latam.protected) == (3, 3, False)


def test_suppression_leaves_no_disclosive_cell_in_the_fixture(marts):
    result = audit(marts, THRESHOLD)
    unprotected = result[~result["protected"]]
    print(f"disclosive cells after suppression: {len(unprotected)}")
    tally.add(disclosive_cells=len(unprotected))
    # Gastric (1 patient, in Latin America only) and prostate (1, United States only) are
    # protected too: every region lists every cancer type, zeros included.
    assert unprotected.empty, unprotected


def test_all_rows_are_exact(star_con, marts):
    assert_all_rows_equal(marts, build_marts(star_con, small_cell_max=0))


def test_a_count_shown_in_several_marts_is_suppressed_in_all(marts):
    cohort = marts["cohort_overview"].set_index("region")["n_patients"]
    for region, n in cohort.items():
        shown = [marts["infection_outcomes"].set_index("region").at[region, "n_patients"],
                 marts["survival_summary"].set_index("region").at[region, "n_patients"],
                 *marts["cancer_types"].loc[marts["cancer_types"]["region"] == region,
                                            "region_n_patients"]]
        assert all(pd.isna(v) == pd.isna(n) for v in shown), region


def test_ranks_and_row_order_do_not_place_suppressed_types(marts):
    us = marts["cancer_types"][marts["cancer_types"]["region"] == "United States"]
    assert us["rank"].isna().all()  # a suppressed type in the region: no rank at all
    hidden = us["n_patients"].isna().tolist()
    assert hidden == sorted(hidden)  # published rows first ...
    codes = us.loc[us["n_patients"].isna(), "cancer_type_code"].tolist()
    assert codes == sorted(codes)    # ... then the suppressed ones in code order
    all_ = marts["cancer_types"][marts["cancer_types"]["region"] == "All"]
    assert all_["rank"].tolist() == list(range(1, len(all_) + 1))


def test_percentages_are_blanked_when_their_denominator_is_not_determined(marts):
    result = audit(marts, THRESHOLD)
    disposition = marts["disposition"]
    for region in ("Latin America", "United States", "Western Europe"):
        exited = cell(result, "exited", region)
        rows = disposition[(disposition["region"] == region)
                           & (disposition["exit_category"] != "active")]
        if exited.upper > exited.lower:
            assert rows["pct_of_exited"].isna().all(), region


# ---------------------------------------------------------------- the cases seen

def _hand_marts(**marts) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(rows) for name, rows in marts.items()}


def test_seen_all_minus_the_other_regions():
    marts = _hand_marts(disposition={
        "region": ["All", "Latin America", "United States", "Western Europe"],
        "exit_category": "explant_or_discontinuation", "n_patients": [57, None, 35, 18]})
    found = cell(audit(marts), "patients_by_exit", "Latin America")
    assert (found.lower, found.upper, found.protected) == (4, 4, False)


def test_seen_categories_adding_up_to_the_region_total():
    # Western Europe's one suppressed type = 423 - 419, though the type's
    # regions alone would not give it (Latin America's is suppressed too).
    marts = _hand_marts(cancer_types={
        "region": ["All", "All", "Latin America", "Latin America", "Western Europe", "Western Europe"],
        "cancer_type_code": ["myeloma", "lung", "myeloma", "lung", "myeloma", "lung"],
        "n_patients": [6, 561, None, 142, None, 419],
        "region_n_patients": [567, 567, 144, 144, 423, 423]})
    found = cell(audit(marts), "patients_by_cancer", "Western Europe", "myeloma")
    assert (found.lower, found.upper, found.protected) == (4, 4, False)


def test_seen_a_total_repeated_in_another_mart():
    regions = ["All", "Latin America", "Western Europe"]
    marts = _hand_marts(
        cohort_overview={"region": regions, "n_patients": [30, None, None]},
        infection_outcomes={"region": regions, "n_patients": [30, 3, 27],
                            "n_infection_surgical": [0, 0, 0]})
    found = cell(audit(marts), "patients", "Latin America")
    assert (found.kind, found.lower, found.upper, found.protected) == ("shown elsewhere", 3, 3, False)
    # Blank in both, it is All minus Western Europe's 27 all the same.
    marts["infection_outcomes"].loc[1, "n_patients"] = None
    found = cell(audit(marts), "patients", "Latin America")
    assert (found.kind, found.lower, found.upper, found.protected) == ("suppressed", 3, 3, False)


def test_a_percentage_reveals_its_denominator():
    marts = _hand_marts(cancer_types={
        "region": ["All", "All", "Latin America", "Latin America", "Western Europe", "Western Europe"],
        "cancer_type_code": ["a", "b", "a", "b", "a", "b"],
        "n_patients": [20, 20, 5, None, 15, None],
        "pct_patients": [50.0, 50.0, 50.0, None, 50.0, None],
        "region_n_patients": [40, 40, None, None, None, None]})
    result = audit(marts)
    # 5 is 50% of 10, so the suppressed type is 10 - 5 = 5, exactly.
    found = cell(result, "patients_by_cancer", "Latin America", "=b,")
    assert (found.lower, found.upper, found.protected) == (5, 5, False)


def test_a_small_complement_is_a_hidden_cell():
    marts = _hand_marts(cohort_overview={
        "region": ["All", "Latin America", "Western Europe"], "n_patients": [40, 10, 30],
        "n_female": [28, 8, 20]})
    men = cell(audit(marts), "male", "Latin America")
    assert (men.kind, men.lower, men.upper, men.protected) == ("hidden", 2, 2, False)


def test_the_threshold_is_the_protection_level():
    # 1 + 1 in two regions of a type of 12: each lies in 0..2 only.
    marts = _hand_marts(cancer_types={
        "region": ["All", "A", "B", "C"], "cancer_type_code": "x",
        "n_patients": [12, None, None, 10]})
    result = audit(marts, 4)
    assert not result["protected"].any() and set(result["upper"]) == {2}
    assert audit(marts, 2)["protected"].all()  # a width of 2 protects counts up to 2
    assert audit(marts, 0).empty


# ---------------------------------------------------------------- generated stars

REGION_SITES = {"United States": ["US-001", "US-002"], "Western Europe": ["DE-001"],
                "Latin America": ["BR-001"]}
COMMON = ["lung", "breast"]
RARE = ["gastric", "prostate"]


@st.composite
def stars(draw, every_type_everywhere: bool):
    """Patients, assessments and events of three regions, small ones and rare
    cancer types included."""
    patients, assessments, events = [], [], []
    sizes = {"United States": draw(st.integers(6, 40)), "Western Europe": draw(st.integers(3, 15)),
             "Latin America": draw(st.integers(1 if not every_type_everywhere else 4, 8))}
    types = COMMON + RARE
    for region, size in sizes.items():
        for i in range(size):
            key = f"{region[:2].lower()}{i:03d}"
            if every_type_everywhere and i < len(types):
                cancer = types[i]
            else:
                cancer = draw(st.sampled_from(COMMON * 3 + RARE))
            exit_reason = draw(st.sampled_from([None, None, "death", "death", "death",
                                                "device_explanted", "lost_to_follow_up"]))
            patients.append((key, REGION_SITES[region][i % len(REGION_SITES[region])],
                             draw(st.sampled_from(["female", "male"])), 40 + i % 40, cancer,
                             f"201{4 + i % 3}-0{1 + i % 9}-1{i % 10}", exit_reason,
                             draw(st.integers(20, 600)) if exit_reason else None))
            if draw(st.booleans()):
                # Untied changes keep the Wilcoxon test off its slow permutation path.
                change = round(1 + (len(patients) * 0.7311) % 6, 4)
                eq5d = draw(st.booleans())
                assessments.append((key, "baseline", True, 9.0, 0.3 if eq5d else None))
                assessments.append((key, "6 months", True, 9.0 - change,
                                    0.3 + change / 10 if eq5d else None))
                if draw(st.booleans()):
                    assessments.append((key, "12 months", True, 9.5 - change, None))
            if draw(st.integers(0, 5)) == 0:
                events.append((key, "infection_pocket", "pump_explant", True, True))
    return patients, assessments, events


def _marts_of(star, **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        path = build_star(Path(tmp) / "star.duckdb", *star)
        con = warehouse_db.connect(path, read_only=True)
        try:
            return exact_and_published(con, **kwargs)
        finally:
            con.close()


GENERATED = settings(max_examples=10, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@GENERATED
@given(stars(every_type_everywhere=True))
def test_generated_stars_publish_no_disclosive_cell(star):
    exact, published = _marts_of(star)
    n = count_disclosive(published, THRESHOLD)
    print(f"disclosive cells after suppression: {n}")
    tally.add(disclosive_cells=n)
    assert n == 0, audit(published, THRESHOLD).query("~protected")
    assert_all_rows_equal(published, exact)  # zeros and small counts included


@GENERATED
@given(stars(every_type_everywhere=False))
def test_generated_stars_with_rare_types_publish_no_disclosive_cell(star):
    _, published = _marts_of(star)
    result = audit(published, THRESHOLD)
    left = result[~result["protected"]]
    assert left.empty, left


@GENERATED
@given(stars(every_type_everywhere=True))
def test_the_audit_solves_what_primary_suppression_leaves_alone(star):
    """An independent check of the audit: a suppressed region cell that is the
    only one missing among its regions is All minus the others, and the audit
    must find exactly that value."""
    exact, primary_only = _marts_of(star, complementary=False)
    result = audit(primary_only, THRESHOLD)
    expected = 0
    for rule in count_rules().itertuples():
        if rule.count_column == "region_n_patients":
            continue
        df = primary_only[rule.mart]
        others = [c for c in rule.keys.split() if "=" not in c and c != "region"]
        for _, group in (df.groupby(others) if others else [((), df)]):
            regions = group[group["region"] != "All"]
            missing = regions[regions[rule.count_column].isna()]
            total = group.loc[group["region"] == "All", rule.count_column]
            if len(missing) == 1 and len(total) == 1:
                value = total.iloc[0] - regions[rule.count_column].sum()
                mine = result[(result["region"] == missing["region"].iloc[0])
                              & (result["lower"] == result["upper"]) & (result["lower"] == value)]
                assert len(mine) >= 1 and not mine["protected"].all(), (rule.mart, missing)
                expected += 1
    if expected:
        assert count_disclosive(primary_only, THRESHOLD) >= 1


def test_library_reads_no_environment():
    for path in (PROJECT_ROOT / "registry" / "marts").glob("*.py"):
        text = path.read_text()
        assert "os.environ" not in text and "getenv" not in text, path
