import json
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from openpyxl import load_workbook

from registry.marts.paper import compare
from registry.publish import publish
from registry.publish.report import FIGURE_IDS, TABLE_IDS


def test_publish_writes_every_file(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path / "pub", provenance)
    names = {p.name for p in (tmp_path / "pub").iterdir()}
    assert names == {"marts.duckdb", "registry_marts.xlsx", "report.html", "manifest.json",
                     *(f"{m}.parquet" for m in fixture_marts)}  # no staging left behind
    manifest = json.loads(result.manifest.read_text())
    assert manifest["publish_id"] == result.publish_id
    assert manifest["row_counts"] == {m: len(df) for m, df in fixture_marts.items()}
    assert manifest["provenance"]["load_id"] == "load-1"
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


def test_republish_drops_marts_no_longer_published(tmp_path, fixture_marts, provenance):
    publish(fixture_marts, tmp_path, provenance)
    fewer = {k: v for k, v in fixture_marts.items() if k != "site_rejection_reasons"}
    publish(fewer, tmp_path, provenance)
    assert not (tmp_path / "site_rejection_reasons.parquet").exists()


def test_workbook_is_formatted_and_holds_no_formula(tmp_path, fixture_marts, provenance):
    result = publish(fixture_marts, tmp_path, provenance)
    wb = load_workbook(result.workbook)
    assert wb.sheetnames == [name[:31] for name in fixture_marts]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws["A1"].font.b
        for cells in ws.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    quality = wb["site_data_quality"]
    files = [c.value for c in quality["C"][1:]]
    assert "'=HYPERLINK(\"http://x\") 2017-07-31.xlsx" in files
    header = [c.value for c in wb["cohort_overview"][1]]
    assert wb["cohort_overview"].cell(2, header.index("pct_female") + 1).number_format == "0.0"
    assert wb["pain_outcomes"].cell(2, [c.value for c in wb["pain_outcomes"][1]].index("p_value") + 1
                                    ).number_format == "0.0000"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.external = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if attrs.get(key):
                self.external.append(attrs[key])


def test_report_is_self_contained_with_every_table_and_figure(tmp_path, fixture_marts, provenance):
    comparison = compare(fixture_marts)
    result = publish(fixture_marts, tmp_path, provenance, comparison=comparison)
    html = result.report.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    assert set(TABLE_IDS) | set(FIGURE_IDS) <= parser.ids
    assert "script" not in parser.tags and "link" not in parser.tags and parser.external == []
    assert parser.tags.count("svg") == len(FIGURE_IDS)
    assert "2017-07-31" in html and "load-1" in html and "abc123" in html
    assert "youngest age at implant" in html  # the paper comparison table
    assert "&lt;5" in html  # suppressed cells are marked
    assert "=HYPERLINK(&quot;http://x&quot;)" in html  # file names are escaped, not markup
