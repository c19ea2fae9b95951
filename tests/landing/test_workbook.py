"""Reading one workbook: sheets, header row, mapping, true Excel rows, file-level faults."""
import datetime as dt

import openpyxl
import pytest

from registry.landing.workbook import FileRejected, read_workbook
from tests.landing import workbooks as wbs


def rows_by_source(sheet):
    return {r["source_row"]: r for r in sheet.rows.to_pylist()}


def test_source_rows_are_excel_rows_when_data_starts_at_c4():
    read = read_workbook(wbs.to_bytes(wbs.es_workbook()))
    patients = read.sheets["patients"]
    assert patients.header_row == 4
    rows = rows_by_source(patients)
    assert rows[5]["patient_ref"] == "ESPATREF0001"
    assert rows[6]["implant_date"] == "15.06.16"
    assert rows[7]["row_class"] == "note"


def test_source_rows_with_gaps_and_leading_empty_rows():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws["E9"] = "Subject ID"
    ws["F9"] = "Implant date"
    ws["E12"] = "S1"
    ws["F12"] = dt.datetime(2014, 1, 2)
    ws["F40"] = "2014-05-06"
    read = read_workbook(wbs.to_bytes(wb))
    rows = rows_by_source(read.sheets["patients"])
    assert read.sheets["patients"].header_row == 9
    assert (rows[12]["patient_ref"], rows[12]["implant_date"]) == ("S1", "2014-01-02")
    assert rows[40]["implant_date"] == "2014-05-06" and rows[40]["patient_ref"] is None
    assert [r["row_class"] for r in rows.values()].count("blank") == 31 - 2  # rows 10 to 40 less the two data rows


def test_header_below_banner_and_mapping():
    read = read_workbook(wbs.to_bytes(wbs.us_workbook()))
    assert read.sheet_names == {"patients": "Patients", "visits": "Follow-up", "events": "Adverse events", "exits": "Exit"}
    assert read.ignored_sheets == ["Lookup lists"]
    patients = read.sheets["patients"]
    assert patients.header_row == 4
    assert patients.mapped_columns["Implant date (mm/dd/yyyy)"] == "implant_date"
    assert patients.mapped_columns["Date of\nbirth"] == "birth_date"
    assert patients.identifier_columns == ["Patient name", "Phone", "MRN", "E-mail"]
    assert patients.unknown_columns == ["Comments", "(column 11 without header)"]
    for identifier in ("Patient name", "Phone", "MRN", "E-mail"):
        assert identifier not in patients.rows.column_names


def test_cell_text_dates_trimming_notes_and_blanks():
    rows = rows_by_source(read_workbook(wbs.to_bytes(wbs.us_workbook())).sheets["patients"])
    assert rows[5]["implant_date"] == "2015-03-02"  # Excel date cell -> ISO
    assert rows[5]["birth_date"] == "1950-05-17"
    assert rows[6]["implant_date"] == "42217"  # a serial number stays the number written
    assert rows[6]["patient_ref"] == "USPATREF0002"  # non-breaking spaces trimmed
    assert rows[6]["sex"] == "f"
    assert rows[8]["implant_date"] == "2016-01-05 14:30:00"
    assert rows[9]["implant_date"] == "2016-02-30"  # impossible text dates are staging's to reject
    assert rows[7]["row_class"] == rows[10]["row_class"] == "blank"
    assert rows[11]["row_class"] == "note"
    assert not [c for c in rows[6] if c.startswith("extra")]  # unknown columns' values are not kept
    visits = rows_by_source(read_workbook(wbs.to_bytes(wbs.us_workbook())).sheets["visits"])
    assert visits[3]["pain_score"] == "7,5" and visits[3]["eq5d_state"] == "11121"
    assert visits[4]["row_class"] == "data"  # a row without patient_ref is kept for staging to reject


@pytest.mark.parametrize("ref", ["PAT 001", "P-001", "US:001", "Fin"])
def test_short_references_are_not_notes(ref):
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Implant date"])
    wb.active.append([ref])
    rows = read_workbook(wbs.to_bytes(wb)).sheets["patients"].rows.to_pylist()
    assert rows[0]["row_class"] == "data"


def test_two_patient_ref_columns_that_disagree_reject_the_file_naming_both():
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Subject ID", "Implant date"])
    wb.active.append(["A1", "USPATREF0001", "2015-01-01"])
    with pytest.raises(FileRejected) as caught:
        read_workbook(wbs.to_bytes(wb))
    assert caught.value.code == "ambiguous_column"
    assert "'Patient ID'" in caught.value.message and "'Subject ID'" in caught.value.message
    assert "USPATREF0001" not in caught.value.reason


def test_a_patient_ref_column_written_twice_is_read_once_and_the_copy_dropped():
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Subject ID", "Implant date"])
    wb.active.append(["USPATREF0001", "uspatref0001", "2015-01-01"])
    sheet = read_workbook(wbs.to_bytes(wb)).sheets["patients"]
    assert sheet.identifier_columns == ["Subject ID"]
    assert sheet.rows.column("patient_ref").to_pylist() == ["USPATREF0001"]
    assert "uspatref0001" not in str(sheet.rows.to_pylist())


def test_empty_optional_sheet_means_no_rows():
    wb = wbs.de_workbook()
    wb.create_sheet("Exits")
    read = read_workbook(wbs.to_bytes(wb))
    assert read.sheets["exits"].rows.num_rows == 0


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (wbs.truncated_xlsx(wbs.us_workbook()), "unreadable_workbook", ""),
        (wbs.password_protected_xlsx(), "unreadable_workbook", ""),
        (b"not a workbook at all", "unreadable_workbook", ""),
        (wbs.to_bytes(wbs.de_workbook(with_patients=False)), "no_patients_sheet", "Übersicht"),
        (wbs.to_bytes(wbs.de_workbook(visits_without_ref=True)), "missing_required_column", "sheet 'Verlauf'"),
    ],
)
def test_file_level_faults(content, code, words):
    assert not wbs.is_zip(wbs.password_protected_xlsx())
    with pytest.raises(FileRejected) as caught:
        read_workbook(content)
    assert caught.value.code == code
    assert caught.value.reason.startswith(code + ": ")
    assert words in caught.value.message


def test_patients_without_implant_date_is_rejected():
    wb = openpyxl.Workbook()
    wb.active.title = "Pacientes"
    wb.active.append(["ID paciente", "Sexo"])
    wb.active.append(["ES1", "M"])
    with pytest.raises(FileRejected, match="missing_required_column: sheet 'Pacientes' .*implant_date"):
        read_workbook(wbs.to_bytes(wb))


def test_a_total_written_in_another_column_is_a_note_but_a_lone_name_is_not():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pacientes"
    ws.append(["Modelo de bomba", "Fecha de implante", "Nombre", "ID paciente"])
    ws.append(["SynchroMed II", "31/05/2012", "Aurelio Pampalona", "ES1"])
    ws.append([None, None, "Bartolomea Kwiatkowski Ruiz", None])  # a full name alone on its row
    ws.append([])
    ws.append(["Total: 1 pacientes"])  # in column A, not under the patient_ref header
    ws.append([None, None, "Nota: revisado"])  # in an identifier column
    rows = rows_by_source(read_workbook(wbs.to_bytes(wb)).sheets["patients"])
    assert (rows[5]["row_class"], rows[5]["note_text"]) == ("note", "Total: 1 pacientes")
    assert (rows[6]["row_class"], rows[6]["note_text"]) == ("note", "Nota: revisado")
    assert rows[3]["row_class"] == "data" and rows[3]["note_text"] is None
    assert "Kwiatkowski" not in str(list(rows.values()))
