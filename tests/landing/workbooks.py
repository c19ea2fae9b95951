"""Small site workbooks written with openpyxl that exercise the whole site workbook contract.

Every direct identifier written here is listed in IDENTIFIERS, so that tests
can scan the warehouse for them.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl

# values that must never reach the warehouse: names, phones, ids, raw patient refs
IDENTIFIERS = [
    "Zebulon Quixworth", "Quixworth", "Philippa Vandersnoot", "Vandersnoot", "Aurelio Pampalona",
    "Pampalona", "Bartolomea Kwiatkowski", "Kwiatkowski", "Ermenegilda Sottocorno",
    "+1 555 0199 231", "555-0142-887", "+34 612 987 004", "+49 171 5550 3318",
    "MRN-8842177", "MRN-8842178", "HC-5520991", "X7788123Z", "Y1122334K", "AZ-7731-DE",
    "zq@example.org", "pv@example.org", "12 Elm Street Springfield", "Calle Mayor 5 Madrid",
    "USPATREF0001", "USPATREF0002", "USPATREF0003", "USPATREF0004",
    "ESPATREF0001", "ESPATREF0002", "DEPATREF0001",
]

# The pseudonym key of the landing tests (a test value, not a secret).
TEST_KEY = "test-pseudonym-key"

SITES_CSV = """site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version
US-001,Springfield General,US,United States,en,MDY,NRS11,3L
ES-001,Hospital Central,es,western europe,ES,DMY,VAS100,5l
DE-001,Klinikum Nord,DE,Western Europe,de,DMY,NRS11,3L
BR-001,Hospital Sul,BR,Latin America,pt,DMY,NRS11,3L
"""


def save(wb: openpyxl.Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def us_workbook(extra_patient: bool = False) -> openpyxl.Workbook:
    """English site: title and banner rows, header on row 4, identifiers, notes, blank rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws["A1"] = "Springfield General - IDD registry export"
    ws.merge_cells("A1:F1")
    ws["A2"] = "Exported by the site coordinator"
    ws.append([])  # row 3 blank
    ws.append(["Patient ID*", "Patient name", "Sex", "Date of\nbirth", "Implant date (mm/dd/yyyy)",
               "Cancer type", "Drugs", "Phone", "MRN", "Comments", None, "E-mail"])  # row 4
    ws.append(["USPATREF0001", "Zebulon Quixworth", "M", dt.datetime(1950, 5, 17), dt.datetime(2015, 3, 2),
               "NSCLC", "morphine + bupivacaine", "+1 555 0199 231", "MRN-8842177", "keep an eye", None,
               "zq@example.org"])  # row 5: real dates
    ws.append(["\u00a0USPATREF0002 ", "Philippa Vandersnoot", " f ", "03/14/1962", 42217.0,
               "C50.9", "Prialt", "555-0142-887", "MRN-8842178", None, "orphan value", "pv@example.org"])  # row 6
    ws.append([])  # row 7 blank
    ws.append(["USPATREF0003", None, "F", None, dt.datetime(2016, 1, 5, 14, 30), "colon", "morfina", None,
               None, None, None, None])  # row 8: a datetime with a time
    ws.append(["USPATREF0004", None, "M", "NA", "2016-02-30", "?", None, None, None, None, None, None])  # row 9
    if extra_patient:
        ws.append(["USPATREF0005", None, "F", "1970", "2017-05-01", "lung", "morphine",
                   None, None, None, None, None])
    ws.append([])
    ws.append(["Total: 4 patients"])  # note row
    visits = wb.create_sheet("Follow-up")
    visits.append(["Patient ID", "Visit date", "Visit", "Pain (0-10)", "EQ-5D", "EQ VAS", "Phone"])
    visits.append(["USPATREF0001", dt.datetime(2015, 3, 2), "Baseline", 8, "21232", 40, "+1 555 0199 231"])
    visits.append(["USPATREF0001", dt.datetime(2015, 9, 1), "6 months", "7,5", 11121, "70", None])
    visits.append([None, "2015-09-01", "6 months", "7/10", None, None, None])  # missing patient_ref: kept
    events = wb.create_sheet("Adverse events")
    events.append(["Patient ID", "Onset date", "Event", "Intervention", "Serious (Y/N)"])
    events.append(["USPATREF0002", dt.datetime(2015, 10, 3), "pocket infection", "pump explant; antibiotics", "Y"])
    exits = wb.create_sheet("Exit")
    exits.append(["Patient ID", "Exit date", "Reason"])
    exits.append(["USPATREF0003", dt.datetime(2016, 6, 1), "death"])
    wb.create_sheet("Lookup lists").append(["codes", "M", "F"])
    return wb


def es_workbook() -> openpyxl.Workbook:
    """Spanish site: data starting at C4, accents, line breaks, bracketed units, reordered sheet words."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = " pacientes "
    rows = [
        ["ID paciente", "Sexo", "Fecha de\nimplantación *", "Nombre y apellidos", "DNI", "Teléfono",
         "Año de nacimiento", "Tipo de cáncer", "Fármacos", "Columna rara"],
        ["ESPATREF0001", "mujer", "02/03/2015", "Aurelio Pampalona", "X7788123Z", "+34 612 987 004",
         "1955", "cáncer de pulmón", "morfina; ziconotida", "xyz"],
        ["ESPATREF0002", "hombre", "15.06.16", "Bartolomea Kwiatkowski", "Y1122334K", None,
         "1948", "C18", "hidromorfona", None],
        ["Nota: datos revisados por el monitor", None, None, None, None, None, None, None, None, None],
    ]
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=3):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    visits = wb.create_sheet("Seguimiento")
    visits.append(["ID paciente", "Fecha visita", "Visita", "EVA (mm)", "Movilidad", "Cuidado personal",
                   "Actividades habituales", "Dolor/malestar", "Ansiedad/depresión", "EQ EVA"])
    visits.append(["ESPATREF0001", "02/03/2015", "Basal", "70 mm", 2, 1, 3, 2, 1, 55])
    events = wb.create_sheet("Adversos eventos")  # word order does not matter
    events.append(["ID paciente", "Fecha de inicio", "Evento", "Intervención", "Grave"])
    exits = wb.create_sheet("Salida")
    exits.append(["ID paciente", "Fecha de salida", "Motivo de salida"])
    exits.append(["ESPATREF0002", "01/01/2017", "fallecimiento"])
    return wb


def de_workbook(visits_without_ref: bool = False, with_patients: bool = True) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    if with_patients:
        ws.title = "Patienten"
        ws.append(["Patienten-Nr.", "Geschlecht", "Geburtsdatum", "Implantationsdatum", "Tumorart", "Versichertennummer"])
        ws.append(["DEPATREF0001", "W", "01.02.1950", "03.04.2016", "Lungenkarzinom", "AZ-7731-DE"])
    else:
        ws.title = "Übersicht"
        ws.append(["Patienten-Nr.", "Implantationsdatum"])
        ws.append(["DEPATREF0001", "03.04.2016"])
    visits = wb.create_sheet("Verlauf")
    if visits_without_ref:
        visits.append(["Datum", "Schmerz (NRS)"])
        visits.append(["01.05.2016", "5"])
    else:
        visits.append(["Patienten-Nr.", "Datum", "Schmerz (NRS)", "Gesundheitszustand"])
        visits.append(["DEPATREF0001", "01.05.2016", "5", "11111"])
    return wb


def to_bytes(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def truncated_xlsx(wb: openpyxl.Workbook) -> bytes:
    """A workbook cut short, as after an interrupted copy: a broken zip."""
    data = to_bytes(wb)
    return data[: len(data) // 2]


def password_protected_xlsx() -> bytes:
    """What Excel writes for an encrypted workbook: an OLE compound file, not a zip."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16 + bytes.fromhex("3E000300FEFF0900")
    return header + b"\0" * (4096 - len(header))


def is_zip(data: bytes) -> bool:
    return zipfile.is_zipfile(io.BytesIO(data))
