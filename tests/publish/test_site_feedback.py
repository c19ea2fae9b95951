"""Site feedback workbooks: the site's language, reasons in words, nothing identifying."""
import re

import pandas as pd
from openpyxl import load_workbook

from registry.config import PROJECT_ROOT
from registry.publish import SiteFeedback, write_site_feedback
from registry.publish.present import LANGUAGES, _labels, label, text
from registry.publish.site_feedback import screen_text


def _cells(path):
    wb = load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _reason_codes() -> set[str]:
    """Every reason and warning code named in docs/architecture.md, plus those announced."""
    doc = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Reason codes"):doc.index("## Parsing rules")]
    codes = set(re.findall(r"`([a-z][a-z0-9_]+)`", section))
    codes -= {"reasons", "reason", "warning", "duplicate", "ignored", "rejected", "current",
              "superseded", "landing", "dq_rejections", "dq_warnings", "visit_windows"}
    return codes | {"ambiguous_column", "too_large", "held"}


def test_every_reason_code_has_text_in_seven_languages():
    labels = _labels()
    warnings = {"age_under_18", "age_over_100", "visit_off_schedule", "visit_label_mismatch",
                "unmapped_term"}
    for code in _reason_codes():
        key = f"warning.{code}" if code in warnings else f"reason.{code}"
        assert key in labels, key
        assert all(labels[key][lang] for lang in LANGUAGES), key
    ui = [k for k in labels if k.startswith(("ui.", "status.", "sheet_kind.", "concept.", "field."))]
    assert all(all(labels[k][lang] for lang in LANGUAGES) for k in ui)


def test_unknown_codes_fall_back_to_english_then_to_the_code():
    assert label("reason", "brand_new_reason", "de") == "brand_new_reason"
    assert label("reason", "missing_date: visit date blank", "xx") == text("reason.missing_date", "en")
    assert text("ui.title", "sv") == text("ui.title", "en")


def _feedback(language="es"):
    return SiteFeedback(
        site_id="MX-001", language=language,
        files=pd.DataFrame({
            "file_name": ["registro_2017-07-31.xlsx", "=cmd|' /C calc'!A0.xlsx", "notas.csv"],
            "data_cut": [pd.Timestamp("2017-07-31"), "2017-08-01", None],
            "status": ["current", "rejected", "ignored"],
            "reason": [None, "unreadable_workbook: CalamineError: something", "not_a_workbook: x"],
            "rows_received": [24, 0, None], "rows_accepted": [21, 0, None],
            "rows_rejected": [3, 0, None],
            "patient_ref": ["MX-0001", "MX-0002", "MX-0003"],  # never written
        }),
        rejected_rows=pd.DataFrame({
            "file_name": ["registro_2017-07-31.xlsx"] * 2, "sheet_name": ["Visitas", "Eventos"],
            "source_row": [5, 7], "column": ["patient_ref", "Fecha evento"],
            "reasons": ["missing_patient_ref", "date_after_data_cut;brand_new_reason"],
            "detail": ["Juan Pérez", "Juan Pérez"],  # never written
        }),
        warnings=pd.DataFrame({"file_name": ["registro_2017-07-31.xlsx"], "sheet_name": ["Pacientes"],
                               "source_row": [9], "warning": ["age_under_18"]}),
        unknown_headers=pd.DataFrame({"file_name": ["registro_2017-07-31.xlsx"] * 2,
                                      "sheet_kind": ["patients", "patients"],
                                      "header": ["Fecha implantacion", "maria@example.org"],
                                      "suggestion": ["Fecha de implantación (implant_date)", None]}),
        unmapped_terms=pd.DataFrame({"concept": ["cancer_type", "drug"],
                                     "term": ["pulmon", "+34 612 345 678"], "n_rows": [2, 1],
                                     "suggestion": ["lung", None]}),
    )


def test_feedback_workbook_in_the_sites_language(tmp_path):
    paths = write_site_feedback([_feedback("es")], tmp_path, publish_id="p1",
                                published_at="2017-08-02T10:00:00+00:00")
    assert paths == {"MX-001": tmp_path / "MX-001.xlsx"}
    cells = _cells(paths["MX-001"])
    assert list(cells) == ["Resumen", "Archivos", "Filas rechazadas", "Advertencias",
                           "Columnas desconocidas", "Términos no reconocidos"]
    files = cells["Archivos"]
    assert files[0][:4] == ["Archivo", "Fecha de corte", "Estado", "Motivo"]
    assert files[1][:3] == ["registro_2017-07-31.xlsx", "2017-07-31", "Vigente (utilizado)"]
    assert files[2][0].startswith("'=")  # formula-like file name escaped
    assert files[2][3] == text("reason.unreadable_workbook", "es")
    assert "CalamineError" not in str(files)  # only the code's words, never the message
    rejected = cells["Filas rechazadas"]
    assert rejected[1] == ["registro_2017-07-31.xlsx", "Visitas", 5,
                           "Identificador del paciente", text("reason.missing_patient_ref", "es")]
    assert rejected[2][4] == text("reason.date_after_data_cut", "es") + " brand_new_reason"
    assert cells["Advertencias"][1][3] == text("warning.age_under_18", "es")
    headers = cells["Columnas desconocidas"]
    assert headers[1][2:] == ["Fecha implantacion", "Fecha de implantación (implant_date)"]
    assert headers[2][2] == "[omitido]"  # an e-mail address as a header is withheld
    terms = cells["Términos no reconocidos"]
    assert terms[1] == ["Cáncer primario", "pulmon", 2, "lung"]
    assert terms[2][1] == "[omitido]"


def test_feedback_never_writes_columns_it_was_not_given(tmp_path):
    paths = write_site_feedback([_feedback("pt")], tmp_path)
    everything = str(_cells(paths["MX-001"]))
    for secret in ("MX-0001", "MX-0002", "Juan", "maria@example.org", "612 345"):
        assert secret not in everything


def test_feedback_with_nothing_to_report(tmp_path):
    paths = write_site_feedback([SiteFeedback("NL-001", "nl")], tmp_path)
    cells = _cells(paths["NL-001"])
    assert cells["Bestanden"][1] == ["Niets te melden.", None, None, None, None, None, None]


def test_screen_text():
    assert screen_text("Notes") == "Notes"
    assert screen_text("=SUM(A1)") == "'=SUM(A1)"
    for value in ("jane@x.org", "0612345678", "12/03/1950", "+1 (555) 123-4567"):
        assert screen_text(value) == "[withheld]", value
    assert screen_text("export 2017-07-31.xlsx", free_text=False) == "export 2017-07-31.xlsx"
    assert len(screen_text("x" * 500)) == 80
