"""An unseen set of site workbooks, written here with openpyxl, in the seven languages.

Each site writes its headers in words and word orders the header dictionary does
not list (abbreviations, prepositions, units, scale names), and some columns with
no usable header at all, recognisable only by their values. ``EXPECTED`` says, per
site, sheet kind and header, which field the column must be and by which tier.
Identifier and comment columns hold unique markers that must never be stored.
"""
from __future__ import annotations

import datetime as dt
import itertools

import openpyxl

SITES_CSV = """site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version
US-101,Lakeside,US,United States,en,MDY,NRS11,5L
ES-101,Hospital Norte,ES,Western Europe,es,DMY,VAS100,5L
BR-101,Hospital Leste,BR,Latin America,pt,DMY,NRS11,3L
FR-101,Hopital Est,FR,Western Europe,fr,DMY,NRS11,3L
DE-101,Klinikum Ost,DE,Western Europe,de,DMY,NRS11,5L
IT-101,Ospedale Ovest,IT,Western Europe,it,DMY,NRS11,3L
NL-101,Ziekenhuis Zuid,NL,Western Europe,nl,DMY,NRS11,5L
"""
SITE_OF = {"en": "US-101", "es": "ES-101", "pt": "BR-101", "fr": "FR-101", "de": "DE-101", "it": "IT-101",
           "nl": "NL-101"}
SHEETS = {
    "en": ("Patients", "Visits", "Events", "Exits"),
    "es": ("Pacientes", "Seguimiento", "Eventos adversos", "Salida"),
    "pt": ("Pacientes", "Seguimento", "Eventos adversos", "Saída"),
    "fr": ("Patients", "Visites", "Événements", "Sortie"),
    "de": ("Patienten", "Verlauf", "Ereignisse", "Abschluss"),
    "it": ("Pazienti", "Visite", "Eventi avversi", "Uscita"),
    "nl": ("Patiënten", "Bezoeken", "Complicaties", "Uitval"),
}
N_PATIENTS = 8

# kind -> [(header or None, field, method)]; field `identifier` / `unknown` hold markers.
COLUMNS: dict[str, dict[str, list[tuple[str | None, str, str]]]] = {
    "en": {
        "patients": [("Subject identifier", "patient_ref", "words"), ("Gender of patient", "sex", "words"),
                     ("Year born", "birth_year", "words"), ("Date of the implant procedure", "implant_date", "words"),
                     ("Implant: first or replacement", "implant_type", "words"), ("Primary tumour site", "cancer_type", "words"),
                     ("Drugs in the pump at implant", "drugs", "words"), ("Contact", "identifier", "words"),
                     ("Legal representative", "identifier", "words"), ("Comments", "unknown", "words")],
        "visits": [("Subject identifier", "patient_ref", "words"), ("Date when assessed", "visit_date", "words"),
                   ("NRS pain", "pain_score", "words"), ("EQ-5D-5L profile", "eq5d_state", "words"),
                   ("EQ VAS today", "eq_vas", "words"), (None, "visit_label", "values")],
        "events": [("Subject identifier", "patient_ref", "words"), ("Date the event started", "onset_date", "words"),
                   ("Complication description", "event_term", "words"),
                   ("Treatment given for it", "intervention", "words"), ("SAE?", "serious", "exact")],
        "exits": [("Subject identifier", "patient_ref", "words"), ("Date of leaving", "exit_date", "words"),
                  ("Cause of exit", "exit_reason", "words")],
    },
    "es": {
        "patients": [("Código de identificación del paciente", "patient_ref", "words"),
                     ("Sexo biológico", "sex", "words"), ("Fecha en que se implantó la bomba", "implant_date", "words"),
                     ("Diagnóstico oncológico", "cancer_type", "words"), (None, "drugs", "values"),
                     ("Representante legal del paciente", "identifier", "words"),
                     ("Observaciones del monitor", "unknown", "words")],
        "visits": [("Código de identificación del paciente", "patient_ref", "words"),
                   ("Fecha de la consulta médica", "visit_date", "words"), ("Dolor EN", "pain_score", "words"),
                   ("Campo 4", "eq5d_state", "values")],
        "events": [("Código de identificación del paciente", "patient_ref", "words"),
                   ("Fecha en que apareció", "onset_date", "words"), ("Complicación presentada", "event_term", "words"),
                   ("Manejo realizado", "intervention", "words")],
        "exits": [("Código de identificación del paciente", "patient_ref", "words"),
                  ("Fecha de la baja", "exit_date", "words"), ("Causa de la baja", "exit_reason", "words")],
    },
    "pt": {
        "patients": [("Código do doente no estudo", "patient_ref", "words"), ("Sexo do doente", "sex", "words"),
                     ("Data da colocação do implante", "implant_date", "words"),
                     ("Tipo de câncer primário", "cancer_type", "words"),
                     ("Medicamentos na bomba", "drugs", "words"), ("Contato do familiar", "identifier", "words")],
        "visits": [("Código do doente no estudo", "patient_ref", "words"), ("Data da consulta", "visit_date", "words"),
                   ("Dor pela EVA", "pain_score", "words"), ("Mobilidade EQ-5D", "mobility", "words")],
        "events": [("Código do doente no estudo", "patient_ref", "words"), ("Data em que começou", "onset_date", "words"),
                   ("Evento ocorrido", "event_term", "words"), ("Conduta adotada", "intervention", "words")],
        "exits": [("Código do doente no estudo", "patient_ref", "words"), ("Data do término", "exit_date", "words"),
                  ("Razão da saída do registro", "exit_reason", "words")],
    },
    "fr": {
        "patients": [("Numéro d'inclusion", "patient_ref", "exact"), ("Sexe du patient", "sex", "words"),
                     ("Date de pose de la pompe", "implant_date", "words"),
                     ("Localisation du cancer primitif", "cancer_type", "words"),
                     ("Médicaments administrés par la pompe", "drugs", "words"),
                     ("Personne de confiance", "identifier", "words")],
        "visits": [("Numéro d'inclusion", "patient_ref", "exact"), ("Date de la visite de suivi", "visit_date", "words"),
                   ("Douleur moyenne EN", "pain_score", "words"), ("Colonne sans titre", "eq5d_state", "values")],
        "events": [("Numéro d'inclusion", "patient_ref", "exact"), ("Date à laquelle l'événement est survenu", "onset_date", "words"),
                   ("Événement indésirable survenu", "event_term", "words"), ("Prise en charge réalisée", "intervention", "words")],
        "exits": [("Numéro d'inclusion", "patient_ref", "exact"), ("Fin du suivi le", "exit_date", "values"),
                  ("Motif de l'arrêt", "exit_reason", "words")],
    },
    "de": {
        "patients": [("Pseudonym", "patient_ref", "words"), ("Geschlecht (m/w)", "sex", "exact"),
                     ("Implantationsdatum der Pumpe", "implant_date", "words"),
                     ("Tumorerkrankung", "cancer_type", "words"), ("Medikamente in der Pumpe", "drugs", "words"),
                     ("Gesetzlicher Betreuer", "identifier", "words"), ("Spalte X", "unknown", "none")],
        "visits": [("Pseudonym", "patient_ref", "words"), ("Datum der Kontrolle", "visit_date", "words"),
                   ("NRS Schmerz", "pain_score", "words"), ("EQ-5D Mobilität", "mobility", "words"),
                   ("Selbstversorgung laut EQ-5D", "self_care", "words")],
        "events": [("Pseudonym", "patient_ref", "words"), ("Aufgetreten am", "onset_date", "values"),
                   ("Art der Komplikation", "event_term", "words"), ("Durchgeführte Maßnahmen", "intervention", "words")],
        "exits": [("Pseudonym", "patient_ref", "words"), ("Ausscheiden am (Datum)", "exit_date", "values"),
                  ("Ursache für das Ausscheiden", "exit_reason", "words")],
    },
    "it": {
        "patients": [("Codice identificativo paziente", "patient_ref", "words"), ("Sesso biologico", "sex", "words"),
                     ("Data dell'impianto della pompa", "implant_date", "words"),
                     ("Diagnosi oncologica", "cancer_type", "words"), ("Farmaci nella pompa", "drugs", "words"),
                     (None, "implant_type", "values")],
        "visits": [("Codice identificativo paziente", "patient_ref", "words"), ("Data del controllo", "visit_date", "exact"),
                   ("Dolore NRS", "pain_score", "words"), ("VAS salute EQ", "eq_vas", "words")],
        "events": [("Codice identificativo paziente", "patient_ref", "words"), ("Data di inizio evento", "onset_date", "words"),
                   ("Complicanza osservata", "event_term", "words"), ("Trattamento effettuato", "intervention", "words")],
        "exits": [("Codice identificativo paziente", "patient_ref", "words"), ("Data di fine studio", "exit_date", "words"),
                  (None, "exit_reason", "values")],
    },
    "nl": {
        "patients": [("Deelnemersnummer studie", "patient_ref", "words"), ("Geslacht patiënt", "sex", "words"),
                     ("Implantatie op datum", "implant_date", "words"), ("Kankersoort primair", "cancer_type", "values"),
                     ("Medicatie in de pomp", "drugs", "words"), ("Contactpersoon familie", "identifier", "words")],
        "visits": [("Deelnemersnummer studie", "patient_ref", "words"), ("Datum van het bezoek", "visit_date", "words"),
                   ("NRS-pijnscore gemiddeld", "pain_score", "words"), ("Kolom 5", "eq5d_state", "values")],
        "events": [("Deelnemersnummer studie", "patient_ref", "words"), ("Datum van ontstaan", "onset_date", "words"),
                   ("Opgetreden complicatie", "event_term", "words"), ("Uitgevoerde interventie", "intervention", "words")],
        "exits": [("Deelnemersnummer studie", "patient_ref", "words"), ("Datum einde deelname", "exit_date", "words"),
                  ("Oorzaak uitval", "exit_reason", "words")],
    },
}

# field -> language -> terms (cycled over the rows); all are terms the code lists hold
TERMS = {
    "sex": {"en": ["M", "F"], "es": ["hombre", "mujer"], "pt": ["masculino", "feminino"], "fr": ["homme", "femme"],
            "de": ["m", "w"], "it": ["maschio", "femmina"], "nl": ["man", "vrouw"]},
    "implant_type": {"en": ["initial", "replacement"], "it": ["primo impianto", "sostituzione", "primo impianto"]},
    "cancer_type": {"en": ["lung", "breast", "C18.7"], "es": ["cáncer de pulmón", "C34.1", "cáncer de mama"],
                    "pt": ["câncer de pulmão", "C50.9", "câncer de próstata"],
                    "fr": ["cancer du poumon", "cancer du sein", "C61"],
                    "de": ["Lungenkarzinom", "Mammakarzinom", "C25.0"], "it": ["tumore del polmone", "C18", "tumore della mammella"],
                    "nl": ["longkanker", "borstkanker", "C34.9"]},
    "drugs": {"en": ["morphine + bupivacaine", "Prialt", "hydromorphone"], "es": ["morfina", "morfina + bupivacaína", "ziconotida"],
              "pt": ["morfina", "morfina; clonidina", "ziconotida"], "fr": ["morphine", "Prialt", "morphine + clonidine"],
              "de": ["Morphin", "Hydromorphon", "Ziconotid"], "it": ["morfina", "ziconotide", "morfina + bupivacaina"],
              "nl": ["morfine", "hydromorfon", "ziconotide"]},
    "visit_label": {"en": ["Baseline", "6 months"]},
    "event_term": {"en": ["pocket infection", "CSF leak"], "es": ["infección del bolsillo", "fístula de LCR"],
                   "pt": ["infecção da bolsa", "fístula liquórica"], "fr": ["infection de la loge", "fuite de LCR"],
                   "de": ["Tascheninfektion", "Liquorleck"], "it": ["infezione della tasca", "perdita di liquor"],
                   "nl": ["pocketinfectie", "liquorlekkage"]},
    "intervention": {"en": ["antibiotics", "pump explant"], "es": ["antibióticos", "explante de la bomba"],
                     "pt": ["antibióticos", "explante da bomba"], "fr": ["antibiotiques", "explantation de la pompe"],
                     "de": ["Antibiotika", "Pumpenexplantation"], "it": ["antibiotici", "espianto della pompa"],
                     "nl": ["antibiotica", "explantatie pomp"]},
    "serious": {"en": ["yes", "no"]},
    "exit_reason": {"en": ["death", "lost to follow-up"], "es": ["fallecimiento", "pérdida de seguimiento"],
                    "pt": ["óbito", "perda de seguimento"], "fr": ["décès", "perdu de vue"],
                    "de": ["verstorben", "Lost to follow-up"], "it": ["decesso", "perso al follow-up"],
                    "nl": ["overleden", "lost to follow-up"]},
}

MARKER = "QZXMARK"  # every identifier and comment cell holds MARKER + a unique number


def _ref(lang: str, i: int) -> str:
    return f"{SITE_OF[lang][:2]}{lang.upper()}REF{i:04d}"


def _cell(lang: str, fld: str, i: int, counter) -> object:
    if fld in ("identifier", "unknown"):
        return f"{MARKER}{next(counter):05d} +34 612 000 {i:03d}"
    if fld in TERMS:
        terms = TERMS[fld].get(lang) or TERMS[fld]["en"]
        return terms[i % len(terms)]
    base = dt.datetime(2015, 1, 5) + dt.timedelta(days=31 * i)
    if fld == "birth_year":
        return 1950 + i
    if fld == "implant_date":
        return base if lang in ("en", "it") else base.strftime("%d/%m/%Y" if lang != "de" else "%d.%m.%Y")
    if fld in ("visit_date", "onset_date", "exit_date"):
        days = {"visit_date": 180 * (i % 2), "onset_date": 40, "exit_date": 400}[fld]
        return (base + dt.timedelta(days=days)).strftime("%Y-%m-%d")
    if fld == "pain_score":
        return [8, 5, 7, 4, 6, 3][i % 6] * (10 if lang == "es" else 1)
    if fld == "eq5d_state":
        return ["21232", "11121", "32221", "11111", "22312"][i % 5] if lang != "fr" else ["21232", "11121", "32221"][i % 3]
    if fld in ("mobility", "self_care"):
        return 1 + i % 3
    if fld == "eq_vas":
        return [40, 65, 80, 55, 70][i % 5]
    raise KeyError(fld)


def workbook(lang: str) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    counter = itertools.count(1 + 10_000 * list(SITE_OF).index(lang))
    rows = {"patients": N_PATIENTS, "visits": 2 * N_PATIENTS, "events": 6, "exits": 5}
    for n, kind in enumerate(("patients", "visits", "events", "exits")):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = SHEETS[lang][n]
        if kind == "patients" and lang == "fr":
            ws.append(["Registre des pompes - export"])  # a title row above the header
            ws.append([])
        ws.append([h for h, _, _ in COLUMNS[lang][kind]])
        for i in range(rows[kind]):
            patient = i // 2 if kind == "visits" else i
            values = []
            for _, fld, _ in COLUMNS[lang][kind]:
                if fld == "patient_ref":
                    values.append(_ref(lang, patient))
                elif kind == "visits" and fld in ("pain_score", "eq5d_state", "eq_vas", "mobility", "self_care"):
                    values.append(_cell(lang, fld, i, counter))
                elif kind == "visits" and fld == "visit_label":
                    values.append(["Baseline", "6 months"][i % 2])
                elif kind == "visits" and fld == "visit_date":
                    values.append(_cell(lang, fld, i, counter))
                else:
                    values.append(_cell(lang, fld, patient, counter))
            ws.append(values)
    return wb


def expected(lang: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(sheet kind, header key) -> (field or identifier/unknown, method)."""
    out = {}
    for kind, columns in COLUMNS[lang].items():
        for j, (header, fld, method) in enumerate(columns):
            key = header if header is not None else f"(column {j + 1} without header)"
            out[(kind, key)] = (fld, method)
    return out
