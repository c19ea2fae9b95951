"""Every publish kept under history/, as-of analyses under as-of/<date>/, and the listing."""
import json

import pandas as pd
import pytest

from registry.publish import SiteFeedback, format_publishes, list_publishes, publish


def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def test_every_publish_is_kept_complete_and_never_overwritten(tmp_path, fixture_marts, provenance):
    first = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    second = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    folders = sorted(p for p in (tmp_path / "history").iterdir())
    assert {p.name.split("_", 1)[1] for p in folders} == {first.publish_id, second.publish_id}
    for result in (first, second):
        folder = result.history_dir
        manifest = _manifest(folder)
        assert manifest["publish_id"] == result.publish_id
        assert {p.name for p in folder.iterdir()} == set(manifest["files"]) | {"manifest.json"}
    # The live folder holds the second; the first's history is as it was.
    assert _manifest(tmp_path)["publish_id"] == second.publish_id
    assert _manifest(first.history_dir)["publish_id"] == first.publish_id
    assert not [p for p in (tmp_path / "history").iterdir() if p.name.startswith(".")]


def test_as_of_publish_has_its_own_folder_and_manifest(tmp_path, fixture_marts, provenance):
    current = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    as_of = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, as_of="2017-06-30")
    assert as_of.location == tmp_path / "as-of" / "2017-06-30"
    assert as_of.marts_duckdb == as_of.location / "marts.duckdb" and as_of.marts_duckdb.is_file()
    manifest = _manifest(as_of.location)
    assert manifest["as_of"] == "2017-06-30" and manifest["kind"] == "as-of"
    assert _manifest(tmp_path)["publish_id"] == current.publish_id  # the current publish stays
    again = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, as_of=pd.Timestamp("2017-06-30"))
    assert _manifest(as_of.location)["publish_id"] == again.publish_id
    assert "as-of analysis" in (as_of.location / "report.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError):
        publish(fixture_marts, tmp_path, provenance, small_cell_max=4, as_of="last june")


def test_list_publishes_one_row_per_publish(tmp_path, fixture_marts, provenance):
    assert list_publishes(tmp_path).empty
    first = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    as_of = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, as_of="2017-06-30")
    second = publish(fixture_marts, tmp_path, provenance, small_cell_max=4)
    table = list_publishes(tmp_path)
    assert list(table.columns) == ["publish_id", "published_at", "kind", "as_of", "data_cut_min",
                                   "data_cut_max", "n_sites", "path", "history_path", "files"]
    assert set(table["publish_id"]) == {first.publish_id, as_of.publish_id, second.publish_id}
    assert len(table) == 3
    by_id = table.set_index("publish_id")
    assert by_id.loc[second.publish_id, "kind"] == "current"
    assert by_id.loc[second.publish_id, "path"] == str(tmp_path)
    assert by_id.loc[as_of.publish_id, "kind"] == "as-of"
    assert by_id.loc[as_of.publish_id, "as_of"] == "2017-06-30"
    assert by_id.loc[first.publish_id, "kind"] == "history"
    assert by_id.loc[first.publish_id, "path"] == str(first.history_dir)
    assert by_id.loc[first.publish_id, "history_path"] == str(first.history_dir)
    assert (by_id["data_cut_min"] == "2017-07-31").all() and (by_id["n_sites"] == 4).all()
    assert "report.html" in by_id.loc[first.publish_id, "files"]
    text = format_publishes(table)
    assert all(pid in text for pid in table["publish_id"]) and "as-of" in text


def test_site_feedback_is_part_of_the_publish(tmp_path, fixture_marts, provenance):
    feedback = [SiteFeedback("US-001", "en"), SiteFeedback("DE-001", "de")]
    result = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, site_feedback=feedback)
    assert set(result.site_feedback) == {"US-001", "DE-001"}
    assert (tmp_path / "site_feedback" / "DE-001.xlsx").is_file()
    assert (result.history_dir / "site_feedback" / "US-001.xlsx").is_file()
    assert "site_feedback/DE-001.xlsx" in _manifest(tmp_path)["files"]
    publish(fixture_marts, tmp_path, provenance, small_cell_max=4, site_feedback=feedback[:1])
    assert not (tmp_path / "site_feedback" / "DE-001.xlsx").exists()  # no stale feedback


def test_unchanged_site_feedback_is_carried_and_a_changed_one_written_again(tmp_path, fixture_marts, provenance):
    from openpyxl import load_workbook

    def feedback(rejected_us: int):
        rows = pd.DataFrame({"file_name": ["us.xlsx"] * rejected_us, "sheet_name": "Visits",
                             "source_row": range(2, 2 + rejected_us), "column": "visit_date",
                             "reasons": "missing_date"})
        return [SiteFeedback("US-001", "en", rejected_rows=rows), SiteFeedback("DE-001", "de")]

    def written_by(result, site):
        path = result.history_dir / "site_feedback" / f"{site}.xlsx"
        sheet = load_workbook(path, read_only=True).worksheets[0]
        return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}

    first = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, site_feedback=feedback(1))
    second = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, site_feedback=feedback(1))
    third = publish(fixture_marts, tmp_path, provenance, small_cell_max=4, site_feedback=feedback(2))
    inode = {r.publish_id: {s: (r.history_dir / "site_feedback" / f"{s}.xlsx").stat().st_ino
                            for s in ("US-001", "DE-001")} for r in (first, second, third)}
    # the same content: the second publish holds the first's workbooks, which name the first publish
    assert inode[second.publish_id] == inode[first.publish_id]
    assert _manifest(second.history_dir)["site_feedback"]["US-001"]["written_by"] == first.publish_id
    assert first.publish_id in written_by(second, "US-001").values()
    # one more rejected row at US-001: its workbook is written again; DE-001's is still the first's
    assert inode[third.publish_id]["US-001"] != inode[first.publish_id]["US-001"]
    assert inode[third.publish_id]["DE-001"] == inode[first.publish_id]["DE-001"]
    entries = _manifest(third.history_dir)["site_feedback"]
    assert entries["US-001"]["written_by"] == third.publish_id and entries["DE-001"]["written_by"] == first.publish_id
    assert third.publish_id in written_by(third, "US-001").values()
    # every history folder stays whole: removing the first leaves the others' files
    import shutil
    shutil.rmtree(first.history_dir)
    assert load_workbook(third.history_dir / "site_feedback" / "DE-001.xlsx").sheetnames


def test_feedback_in_another_language_is_not_the_same_feedback():
    from registry.publish.site_feedback import feedback_digest

    assert feedback_digest(SiteFeedback("US-001", "en")) == feedback_digest(SiteFeedback("US-001", "en"))
    assert feedback_digest(SiteFeedback("US-001", "en")) != feedback_digest(SiteFeedback("US-001", "es"))


def test_feedback_digest_follows_every_shown_cell_and_nothing_else():
    import pandas as pd

    from registry.publish.site_feedback import feedback_digest

    def rejected(**change):
        row = {"file_name": "a.xlsx", "sheet_name": "Patients", "source_row": 4, "column": "Sex", "reasons": "bad_code"}
        return SiteFeedback("US-001", "en", rejected_rows=pd.DataFrame([{**row, **change}]))

    base = feedback_digest(rejected())
    assert feedback_digest(rejected()) == base
    for column, value in (("file_name", "b.xlsx"), ("sheet_name", "Visits"), ("source_row", 5), ("column", "Age"),
                          ("reasons", "out_of_range")):
        assert feedback_digest(rejected(**{column: value})) != base, column
    assert feedback_digest(rejected(patient_key="not shown")) == base  # a column the workbook does not show
    two = pd.concat([rejected().rejected_rows, rejected(source_row=5).rejected_rows])
    assert feedback_digest(SiteFeedback("US-001", "en", rejected_rows=two)) != \
        feedback_digest(SiteFeedback("US-001", "en", rejected_rows=two.iloc[::-1]))  # the order shown counts
