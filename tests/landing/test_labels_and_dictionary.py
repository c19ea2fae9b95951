import pytest

from registry.landing.dictionary import header_index, sheet_name_index
from registry.landing.labels import normalise_label, normalise_sheet_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fecha de\nimplantación *", "fecha de implantacion"),
        ("  EVA (mm)", "eva"),
        ("Pain [0-10]*", "pain"),
        ("Patienten-Nr.", "patienten nr"),
        ("N° patient", "n patient"),
        ("Patiëntnummer", "patientnummer"),
        ("Straße", "strasse"),
        ("EQ-5D", "eq 5d"),
        (None, ""),
    ],
)
def test_normalise_label(raw, expected):
    assert normalise_label(raw) == expected


def test_sheet_name_word_order_and_accents_do_not_matter():
    assert normalise_sheet_name("Eventos adversos") == normalise_sheet_name(" ADVERSOS  eventos ")
    assert normalise_sheet_name("Événements") == normalise_sheet_name("evenements")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Patients", "patients"), ("Pacientes", "patients"), ("Patienten", "patients"), ("Pazienti", "patients"),
        ("Patiënten", "patients"), ("Follow-up", "visits"), ("Seguimiento", "visits"), ("Visites", "visits"),
        ("Eventos adversos", "events"), ("Exit", "exits"), ("Salida", "exits"), ("Sortie", "exits"),
        ("Abschluss", "exits"), ("Uscita", "exits"), ("Saída", "exits"),
    ],
)
def test_contract_sheet_names(name, kind):
    assert sheet_name_index()[normalise_sheet_name(name)] == kind


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        ("patients", "Fecha de implante", "implant_date"), ("patients", "Fecha implantación", "implant_date"),
        ("patients", "Data do implante", "implant_date"), ("patients", "Date d'implantation", "implant_date"),
        ("patients", "Implantationsdatum", "implant_date"), ("patients", "Data impianto", "implant_date"),
        ("patients", "Implantatiedatum", "implant_date"), ("patients", "Patient ID", "patient_ref"),
        ("visits", "Subject ID", "patient_ref"), ("events", "N° patient", "patient_ref"),
        ("exits", "ID paciente", "patient_ref"), ("patients", "Código do paciente", "patient_ref"),
        ("patients", "Patienten-Nr.", "patient_ref"), ("patients", "Codice paziente", "patient_ref"),
        ("patients", "Patiëntnummer", "patient_ref"), ("patients", "Geschlecht", "sex"),
        ("patients", "Sexo", "sex"), ("patients", "Sexe", "sex"), ("patients", "Sesso", "sex"),
        ("patients", "Geslacht", "sex"), ("visits", "EVA (mm)", "pain_score"), ("visits", "Dolor (0-10)", "pain_score"),
        ("visits", "Schmerz (NRS)", "pain_score"), ("visits", "Mobilité", "mobility"), ("visits", "EQ-5D", "eq5d_state"),
        ("visits", "EQ VAS", "eq_vas"), ("visits", "Gesundheitszustand", "eq5d_state"),
        ("visits", "Estado EQ-5D", "eq5d_state"), ("events", "Fecha de inicio", "onset_date"),
        ("exits", "Motivo de salida", "exit_reason"),
    ],
)
def test_header_variants(kind, header, field):
    match = header_index()[kind][normalise_label(header)]
    assert (match.field, match.role) == (field, "field")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nombre", "patient_name"), ("Initials", "initials"), ("Dirección", "address"), ("Teléfono", "phone"),
        ("E-mail", "email"), ("DNI", "national_id"), ("Codice fiscale", "national_id"), ("BSN", "national_id"),
        ("MRN", "medical_record_number"), ("Historia clínica", "medical_record_number"),
        ("Prontuário", "medical_record_number"), ("Vorname", "patient_name"),
    ],
)
def test_identifier_headers_are_marked_in_every_sheet_kind(header, field):
    for kind in ("patients", "visits", "events", "exits"):
        match = header_index()[kind][normalise_label(header)]
        assert (match.field, match.role) == (field, "identifier")


def test_every_language_has_patient_ref_and_required_dates():
    import csv

    from registry.landing.dictionary import DATA_DIR

    with (DATA_DIR / "header_dictionary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for field in ("patient_ref", "implant_date", "visit_date", "onset_date", "exit_date", "patient_name", "phone"):
        languages = {r["language"] for r in rows if r["field"] == field}
        assert languages == {"en", "es", "pt", "fr", "de", "it", "nl"}, field


@pytest.mark.parametrize("header", ["Patient", "Paciente", "Paziente", "Doente", "Patiënt", "NOME DO PACIENTE"])
def test_bare_patient_words_are_names_not_references(header):
    match = header_index()["patients"][normalise_label(header)]
    assert (match.field, match.role) == ("patient_name", "identifier")


def test_hash_sign_reads_as_number():
    assert header_index()["visits"][normalise_label("Patient #")].field == "patient_ref"
