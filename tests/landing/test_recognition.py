"""Recognition on an unseen set of workbooks in the seven languages (tests/landing/corpus.py):
headers the dictionary lacks, columns known only by their values, ambiguity never guessed."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.landing.dictionary import header_index
from registry.landing.labels import normalise_label
from registry.landing.recognition import ColumnsRejected, Recognizer, SiteContext
from registry.landing.terms import code_lists
from registry.landing.workbook import FileRejected, read_workbook
from tests.landing import corpus
from tests.landing import workbooks as wbs

LANGUAGES = list(corpus.SITE_OF)


def site_context(lang: str) -> SiteContext:
    rows = [line.split(",") for line in corpus.SITES_CSV.strip().splitlines()[1:]]
    row = next(r for r in rows if r[4] == lang)
    return SiteContext(row[0], row[4], row[6], row[7], row[5])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_corpus_headers_are_not_in_the_dictionary(lang):
    index = header_index()
    for (kind, header), (fld, method) in corpus.expected(lang).items():
        if method != "exact" and not header.startswith("(column"):
            assert normalise_label(header) not in index[kind], (kind, header)


def test_the_corpus_terms_are_in_the_code_lists():
    lists = code_lists()
    concept = {"sex": "sex", "implant_type": "implant_type", "cancer_type": "cancer_type", "drugs": "drug",
               "visit_label": "visit_label", "event_term": "event_type", "intervention": "intervention",
               "serious": "yes_no", "exit_reason": "exit_reason"}
    for fld, by_language in corpus.TERMS.items():
        for terms in by_language.values():
            for term in terms:
                assert lists.fits(concept[fld], term), (fld, term)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_field_maps_by_the_expected_tier(lang):
    read = read_workbook(wbs.to_bytes(corpus.workbook(lang)), recognizer=Recognizer(site_context(lang)))
    found = {}
    for kind, sheet in read.sheets.items():
        for col in sheet.columns:
            fld = {"mapped": col.target, "identifier": "identifier", "unknown": "unknown"}.get(col.status, col.status)
            found[(kind, col.key)] = (fld, col.method or "none")
    assert found == corpus.expected(lang)
    # identifier and unknown columns hold markers: none of them is in the rows kept
    kept = json.dumps([s.rows.to_pylist() for s in read.sheets.values()], default=str)
    assert corpus.MARKER not in kept
    unknown = [p for s in read.sheets.values() for p in s.profiles]
    assert all(corpus.MARKER not in json.dumps(p) for p in unknown)


def test_the_header_row_is_found_below_a_title_with_words_only_headers():
    read = read_workbook(wbs.to_bytes(corpus.workbook("fr")), recognizer=Recognizer(site_context("fr")))
    assert read.sheets["patients"].header_row == 3


def test_the_five_headers_of_the_incident_are_recognised():
    recognizer = Recognizer()
    cases = [("visits", "Pain score NRS", "pain_score"), ("visits", "VAS pain (mm)", "pain_score"),
             ("exits", "Reason for leaving", "exit_reason"), ("exits", "Cause of exit", "exit_reason"),
             ("patients", "Drugs at implant", "drugs"), ("patients", "Medication in the pump", "drugs"),
             ("visits", "EQ-5D-5L profile", "eq5d_state"), ("visits", "EQ-5D-3L health state", "eq5d_state"),
             ("visits", "Dol. EN", "pain_score"), ("visits", "Schm. (NRS)", "pain_score"),
             ("visits", "Schmerzstärke NRS", "pain_score")]
    for kind, header, fld in cases:
        guess = recognizer.guess(kind, header)
        assert (guess.role, guess.target) == ("field", fld), (header, guess)


@pytest.mark.parametrize("header", ["Contact", "Legal representative", "Emergency contact phone", "Guardian",
                                    "Representante legal", "Contato do responsável", "Personne à prévenir contact",
                                    "Angehörige", "Tutore legale", "Wettelijk vertegenwoordiger", "Initials of subject",
                                    "Hospital record no.", "Street address"])
def test_identifier_headers_are_recognised_by_words_and_dropped(header):
    guess = Recognizer().guess("patients", header)
    assert (guess.role, guess.target) == ("identifier", "identifier")


def test_a_bare_patient_word_is_a_name_but_with_a_field_word_it_is_that_field():
    recognizer = Recognizer()
    assert recognizer.guess("patients", "Patient name (full)").role == "identifier"
    assert recognizer.guess("patients", "Sexe du patient").target == "sex"
    assert recognizer.guess("patients", "Patient's number").target == "patient_ref"


def patients_sheet(headers, rows) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(headers)
    for row in rows:
        wb.active.append(row)
    return wbs.to_bytes(wb)


def test_a_tie_of_words_is_reported_with_its_candidates_and_not_used():
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Implant date"])
    wb.active.append(["P1", "2015-01-01"])
    visits = wb.create_sheet("Visits")
    visits.append(["Patient ID", "Visit date", "Pain medication"])
    for i in range(6):
        visits.append(["P1", "2015-02-01", "morphine"])
    sheet = read_workbook(wbs.to_bytes(wb)).sheets["visits"]
    assert sheet.ambiguous_columns == {"Pain medication": ["pain_score"]} or "Pain medication" in sheet.unknown_columns
    assert "pain_score" not in sheet.rows.column_names


def test_two_columns_claiming_an_optional_field_are_both_reported_and_neither_used():
    rows = [[f"P{i}", "2015-01-01", "lung", "breast"] for i in range(6)]
    sheet = read_workbook(patients_sheet(["Patient ID", "Implant date", "Cancer type", "Primary tumour"], rows)
                          ).sheets["patients"]
    assert "cancer_type" not in sheet.rows.column_names
    assert set(sheet.ambiguous_columns) == {"Cancer type", "Primary tumour"}
    assert all(c == ["cancer_type"] for c in sheet.ambiguous_columns.values())


def test_two_columns_claiming_a_required_field_reject_the_file_naming_both():
    rows = [[f"P{i}", "2015-01-01", "2015-02-03"] for i in range(6)]
    with pytest.raises(FileRejected) as caught:
        read_workbook(patients_sheet(["Patient ID", "Implant date", "Date of the implant procedure"], rows))
    assert caught.value.code == "ambiguous_column"
    assert "'Implant date'" in caught.value.message and "'Date of the implant procedure'" in caught.value.message


def test_two_unknown_columns_whose_values_fit_one_field_are_both_reported():
    rows = [[f"P{i}", "2015-01-01", "death", "lost to follow-up"] for i in range(6)]
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Implant date"])
    exits = wb.create_sheet("Exits")
    exits.append(["Patient ID", "Exit date", "Col A", "Col B"])
    for row in rows:
        exits.append(row)
    sheet = read_workbook(wbs.to_bytes(wb)).sheets["exits"]
    assert "exit_reason" not in sheet.rows.column_names
    assert set(sheet.unknown_columns) == {"Col A", "Col B"}


def test_a_date_column_is_birth_or_implant_by_its_years_and_undecided_between_them():
    births = [[f"P{i}", dt.datetime(1950 + i, 3, 1)] for i in range(6)]
    sheet = read_workbook(patients_sheet(["Patient ID", "Implant date", "Col"],
                                         [[r[0], "2016-01-01", r[1]] for r in births])).sheets["patients"]
    assert sheet.mapped_columns["Col"] == "birth_date"
    # years that both a birth and an implant may have: the column is not used, and the
    # implant date it might be is required, so the file is rejected with the candidates
    both = [[f"P{i}", dt.datetime(2003 + i, 3, 1)] for i in range(6)]
    with pytest.raises(FileRejected) as caught:
        read_workbook(patients_sheet(["Patient ID", "Col"], both))
    assert caught.value.code == "ambiguous_column"
    assert "'Col' (candidates: " in caught.value.message and "birth_date" in caught.value.message


def test_a_required_field_found_only_among_ambiguous_candidates_rejects_the_file():
    rows = [[f"P{i}", "2015-01-01", "2016-01-01"] for i in range(6)]
    with pytest.raises(FileRejected) as caught:
        read_workbook(patients_sheet(["Patient ID", "Col A", "Col B"], rows))
    assert caught.value.code == "ambiguous_column"
    assert "'Col A'" in caught.value.message and "'Col B'" in caught.value.message


def test_words_that_the_values_contradict_are_not_used():
    rows = [[f"P{i}", "2015-01-01", "fine"] for i in range(6)]
    wb = openpyxl.Workbook()
    wb.active.title = "Patients"
    wb.active.append(["Patient ID", "Implant date"])
    visits = wb.create_sheet("Visits")
    visits.append(["Patient ID", "Visit date", "Pain at rest"])
    for row in rows:
        visits.append(row)
    sheet = read_workbook(wbs.to_bytes(wb)).sheets["visits"]
    assert "pain_score" not in sheet.rows.column_names
    assert "Pain at rest" in sheet.ambiguous_columns


cell_text = st.one_of(st.none(), st.text(max_size=40),
                      st.from_regex(r"[0-9]{1,6}([.,/-][0-9]{1,4}){0,2}", fullmatch=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["patients", "visits", "events", "exits"]),
       headers=st.lists(st.one_of(st.none(), st.text(max_size=60)), min_size=1, max_size=6),
       cells=st.lists(cell_text, min_size=0, max_size=12), lang=st.sampled_from([None, *LANGUAGES]))
def test_recognition_never_raises_on_arbitrary_headers_and_values(kind, headers, cells, lang):
    recognizer = Recognizer(site_context(lang) if lang else None)
    for header in headers:
        recognizer.guess(kind, header)
    columns = [pa.chunked_array([pa.array(cells[j::len(headers)] or [], pa.string())]) for j in range(len(headers))]
    height = min((len(c) for c in columns), default=0)
    columns = [c.slice(0, height) for c in columns]
    try:
        sheet = recognizer.recognise(kind, headers, columns)
    except ColumnsRejected as exc:
        assert exc.code in ("missing_required_column", "ambiguous_column")
        return
    assert all(c.status in ("mapped", "duplicate", "identifier", "ignored", "ambiguous", "unknown")
               for c in sheet.columns)


@settings(max_examples=60, deadline=None)
@given(concept=st.sampled_from(["cancer_type", "drug", "exit_reason", "event_type", "intervention", "implant_type"]),
       term=st.text(max_size=60))
def test_term_words_never_raise_and_return_a_code_of_the_concept_or_nothing(concept, term):
    code = code_lists().code_by_words(concept, term)
    assert code is None or code in code_lists().codes[concept]


# Header-like and value-like cells: words of the shipped dictionary (patient_ref among them),
# unknown words, numbers and blanks, so that rows compete on both conditions of a header.
_HEADERS = header_index()["patients"]
_REF_WORDS = sorted(n for n, e in _HEADERS.items() if e.field == "patient_ref")
_HEADER_WORDS = sorted(_HEADERS)
head_cell = st.one_of(st.none(), st.sampled_from(_REF_WORDS), st.sampled_from(_HEADER_WORDS),
                      st.text(max_size=12), st.from_regex(r"[0-9]{1,4}", fullmatch=True))


def _plain_find_header(recognizer: Recognizer, kind: str, head) -> int | None:
    """The header search as the contract states it: of the rows that name patient_ref,
    the first with the most decided headers (every cell of every row guessed)."""
    best, best_score = None, -1
    for i, cells in enumerate(head):
        guesses = [recognizer.guess(kind, cell) for cell in cells if cell is not None]
        if any(g.names("patient_ref") for g in guesses):
            score = sum(g.decided for g in guesses)
            if score > best_score:
                best, best_score = i, score
    return best


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=st.lists(st.lists(head_cell, min_size=0, max_size=8), min_size=0, max_size=15))
def test_the_header_search_that_stops_early_finds_the_row_the_plain_search_finds(head):
    recognizer, kind = Recognizer(), "patients"
    assert recognizer.find_header(kind, head) == _plain_find_header(recognizer, kind, head)
