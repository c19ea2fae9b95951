import json
import re
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from openpyxl import load_workbook

from registry.marts.paper import compare
from registry.publish import publish
from registry.publish.report import FIGURE_IDS, TABLE_IDS


def test_publish_writes_every_file(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path / "pub", provenance, small_cell_max=4)
    names = {p.name for p in (tmp_path / "pub").iterdir()}
    assert names == {"marts.duckdb", "registry_marts.xlsx", "report.html", "manifest.json",
                     "history", "current", *(f"{m}.parquet" for m in fixture_marts)}  # no staging left behind
    manifest = json.loads(result.manifest.read_text())
    assert manifest["publish_id"] == result.publish_id
    assert manifest["row_counts"] == {m: len(df) for m, df in fixture_marts.items()}
    assert manifest["provenance"]["load_id"] == "load-1"
    assert manifest["kind"] == "current" and manifest["as_of"] is None
    assert (manifest["data_cut_min"], manifest["data_cut_max"], manifest["n_sites"]) == (
        "2017-07-31", "2017-07-31", 4)
    con = duckdb.connect(str(result.marts_duckdb), read_only=True)
    assert con.execute("select publish_id, data_cut from publish_info").fetchall() == [
        (result.publish_id, "2017-07-31")]
    for mart, df in fixture_marts.items():
        assert con.execute(f'select count(*) from main."{mart}"').fetchone()[0] == len(df)
    assert con.execute("select n_patients from cohort_overview where region = 'All'").fetchone() == (21,)
    con.close()
    parquet = pq.read_table(result.parquet["cohort_overview"])
    assert parquet.schema.metadata[b"registry_publish_id"] == result.publish_id.encode()
    assert pd.read_parquet(result.parquet["pain_outcomes"])["n_paired"].iloc[0] == 8


def test_published_data_is_the_marts_unchanged(tmp_path, fixture_marts, provenance):
    """Presentation changes only: tables and Parquet hold the marts' values and codes."""
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    con = duckdb.connect(str(result.marts_duckdb), read_only=True)
    try:
        for mart, df in fixture_marts.items():
            stored = con.execute(f'select * from main."{mart}"').df()
            assert list(stored.columns) == list(df.columns)
            parquet = pd.read_parquet(result.parquet[mart])
            assert list(parquet.columns) == list(df.columns)
            pd.testing.assert_frame_equal(parquet.reset_index(drop=True), df.reset_index(drop=True),
                                          check_dtype=False)
        assert con.execute("select distinct exit_category from disposition order by 1").fetchall() == [
            ("active",), ("death",), ("explant_or_discontinuation",), ("not_reported",), ("other",)]
    finally:
        con.close()


def test_republish_drops_marts_no_longer_published(tmp_path, fixture_marts, provenance):
    publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    fewer = {k: v for k, v in fixture_marts.items() if k != "site_rejection_reasons"}
    publish(fewer, tmp_path, provenance, small_cell_max=4)
    assert not (tmp_path / "site_rejection_reasons.parquet").exists()


def _sheet_rows(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_workbook_is_formatted_and_holds_no_formula(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    wb = load_workbook(result.workbook)
    assert wb.sheetnames == ["About", "Columns", *(name[:31] for name in fixture_marts)]
    for ws in wb.worksheets:
        for cells in ws.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    for name in fixture_marts:
        ws = wb[name[:31]]
        assert ws.freeze_panes == "A2" and ws["A1"].font.b
    quality = wb["site_data_quality"]
    files = [c.value for c in quality["C"][1:]]
    assert "'=HYPERLINK(\"http://x\") 2017-07-31.xlsx" in files


def test_workbook_headers_units_and_formats(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    wb = load_workbook(result.workbook)
    cohort = wb["cohort_overview"]
    header = [c.value for c in cohort[1]]
    assert "Women (%)" in header and "Age at implant, mean (years)" in header
    assert not any(re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h) for h in header), header
    assert cohort.cell(2, header.index("Women (%)") + 1).number_format == "0.0"
    pain = wb["pain_outcomes"]
    pain_header = [c.value for c in pain[1]]
    assert "Mean pain, baseline (0-10)" in pain_header
    p_cell = pain.cell(2, pain_header.index("p, paired t-test") + 1)
    assert "E+00" in p_cell.number_format and p_cell.number_format.startswith("[<0.0001]")
    assert isinstance(p_cell.value, float)
    eq5d = wb["eq5d_outcomes"]
    eq5d_header = [c.value for c in eq5d[1]]
    assert eq5d.cell(2, eq5d_header.index("Mean change in EQ-5D index") + 1).number_format == "0.000"
    # Labels, not codes.
    disposition = _sheet_rows(wb["disposition"])
    assert "Explant or discontinuation" in {r[1] for r in disposition}
    assert "explant_or_discontinuation" not in {r[1] for r in disposition}
    assert "All regions" in {r[0] for r in disposition}
    # Dates are dates, shown YYYY-MM-DD.
    quality = wb["site_data_quality"]
    q_header = [c.value for c in quality[1]]
    cut = quality.cell(2, q_header.index("Data cut") + 1)
    assert cut.is_date and cut.number_format == "yyyy-mm-dd"


def test_workbook_marks_suppressed_cells(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    wb = load_workbook(result.workbook)
    rows = _sheet_rows(wb["cancer_types"])
    header = rows[0]
    marts = fixture_marts["cancer_types"]
    la = [dict(zip(header, r)) for r in rows[1:] if r[0] == "Latin America"]
    la_frame = marts[marts["region"] == "Latin America"]
    withheld = la_frame["n_patients"].isna().to_numpy()
    assert la and withheld.any()
    for row, is_withheld in zip(la, withheld):
        if is_withheld:  # every withheld count, small or protecting a small one, shows the same mark
            assert row["Patients"] == "<5*"
            assert row["Rank"] is None and row["95% CI lower (% of region)"] is None
        else:
            assert isinstance(row["Patients"], int)
    cohort = [dict(zip(_sheet_rows(wb["cohort_overview"])[0], r))
              for r in _sheet_rows(wb["cohort_overview"])[1:]]
    latin = next(r for r in cohort if r["Region"] == "Latin America")
    assert latin["Patients"] == "<5*" and latin["Women, 95% CI lower (%)"] is None
    assert not any(v == "withheld" for r in cohort for v in r.values())


def test_workbook_about_and_columns_sheets(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=2)
    wb = load_workbook(result.workbook)
    about = _sheet_rows(wb["About"])
    facts = {r[0]: r[1] for r in about if r[0]}
    assert facts["Publish id"] == result.publish_id
    assert facts["Data cuts"] == "data cut 2017-07-31, 4 sites"
    assert facts["Small-cell bound"] == "2"
    assert "<3" in facts["Small cells"]
    assert {"Visit windows", "EQ-5D", "Change from baseline", "Survival", "Small cells"} <= set(facts)
    assert "Dolan" in facts["EQ-5D"] and "Devlin" in facts["EQ-5D"]
    sites = [r for r in about if r[0] in {"US-001", "US-002", "DE-001", "BR-001"}]
    assert len(sites) == 4
    columns = _sheet_rows(wb["Columns"])
    assert columns[0] == ["Mart", "Column", "Label", "Unit", "Shown as", "Description"]
    listed = {(r[0], r[1]) for r in columns[1:]}
    assert listed == {(m, c) for m, df in fixture_marts.items() for c in df.columns}
    by_key = {(r[0], r[1]): r for r in columns[1:]}
    assert by_key[("pain_outcomes", "baseline_mean")][2:4] == ["Mean pain, baseline", "0-10"]
    assert all(r[2] and r[5] for r in columns[1:]), "every column has a label and a description"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.external = set(), [], []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            value = attrs.get(key)
            if value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data):
        self.text.append(data)


def _report(tmp_path, marts, provenance, **kwargs):
    comparison = compare(marts)
    result = publish(marts, tmp_path, provenance, comparison=comparison, **{"small_cell_max": 4, **kwargs})
    html = result.report.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    return html, parser


def test_report_is_self_contained_with_every_table_and_figure(tmp_path, fixture_marts, provenance):
    html, parser = _report(tmp_path, fixture_marts, provenance)
    assert set(TABLE_IDS) | set(FIGURE_IDS) <= parser.ids
    assert "script" not in parser.tags and "link" not in parser.tags and parser.external == []
    assert "img" not in parser.tags and "iframe" not in parser.tags
    assert parser.tags.count("svg") == len(FIGURE_IDS)
    assert "load-1" in html and "abc123" in html
    assert "youngest age at implant" in html  # the paper comparison table
    assert "&lt;5" in html  # suppressed cells are marked
    assert "=HYPERLINK(&quot;http://x&quot;)" in html  # file names are escaped, not markup
    assert "id=\"methods\"" in html


def test_report_reads_as_a_clinician_expects(tmp_path, fixture_marts, provenance):
    html, parser = _report(tmp_path, fixture_marts, provenance)
    text = " ".join(parser.text)
    assert "T00:00:00" not in text
    assert not re.search(r"-0\.0+(?!\d)", text), "a negative zero is shown"
    for code in ("explant_or_discontinuation", "duplicate_patient_ref", "pain_out_of_range",
                 "unreadable_workbook", "superseded"):
        assert code not in text, code
    assert "Explant or discontinuation" in text and "All regions" in text
    assert "The pain score is outside the scale" in text  # rejection reasons in words
    assert "Data cut 2017-07-31, 4 sites" in text
    for fact in ("Dolan", "Devlin", "Wilson", "Greenwood", "paired t-test", "Wilcoxon",
                 "day 183 after implant"):
        assert fact in text, fact
    # EQ-5D at three decimals: 0.17 shows as 0.170, its interval bounds too.
    assert "0.170" in text and "-0.003 to 0.343" in text


def test_report_headline_gives_the_range_of_data_cuts(tmp_path, fixture_marts, provenance):
    marts = dict(fixture_marts)
    quality = marts["site_data_quality"].copy()
    older = quality["site_id"].ne("US-001") & quality["status"].eq("current")
    quality.loc[older, "data_cut"] = pd.Timestamp("2017-06-30")
    marts["site_data_quality"] = quality
    html, parser = _report(tmp_path, marts, provenance)
    assert "Data cuts 2017-06-30 to 2017-07-31, 4 sites" in " ".join(parser.text)


def test_report_suppression_legend_follows_the_bound(tmp_path, fixture_marts, provenance):
    html, parser = _report(tmp_path, fixture_marts, provenance, small_cell_max=2)
    text = " ".join(parser.text)
    assert "<3*: a count of 1 to 2" in text and "&lt;3*" in html
    assert "bound 2" in text
    assert "&lt;5" not in html


def test_report_of_a_national_registry_folds_its_long_lists(tmp_path, fixture_marts, provenance):
    """Thousands of sites: the outcome tables stay within reach; the per-site lists are folded
    under a line saying what they hold, and a summary by region comes first."""
    import re

    from registry.publish.report.html import LONG_TABLE_ROWS

    n = LONG_TABLE_ROWS + 50
    quality = pd.DataFrame({
        "site_id": [f"XX-{i:04d}" for i in range(n)], "region": ["North", "South"] * (n // 2),
        "file_name": [f"f{i}.xlsx" for i in range(n)], "data_cut": "2020-01-31", "status": "current",
        "reason": None, "rows_received": 10, "rows_accepted": 9, "rows_rejected": 1, "pct_rejected": 10.0})
    marts = {**fixture_marts, "site_data_quality": quality}
    html, parser = _report(tmp_path, marts, provenance)
    assert set(TABLE_IDS) | set(FIGURE_IDS) <= parser.ids
    for table_id in ("table-sites", "table-data-quality"):
        assert re.search(r'<details class="long-table"><summary>[^<]*' + f"{n:,}" + r' rows[^<]*</summary>'
                         r'<div class="table"><table id="' + table_id + '"', html), table_id
    summary = html[html.index('id="table-sites-by-region"'):]
    summary = summary[:summary.index("</table>")]
    assert "<details" not in html[:html.index('id="table-sites-by-region"')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", summary)
    assert cells[-7:] == ["All", f"{n:,}", "2020-01-31", "2020-01-31", f"{10 * n:,}", f"{9 * n:,}", f"{n:,}"]


def test_report_of_a_few_sites_folds_nothing(tmp_path, fixture_marts, provenance):
    html, _ = _report(tmp_path, fixture_marts, provenance)
    assert "<details" not in html
