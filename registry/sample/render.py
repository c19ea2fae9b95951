"""Turns canonical delivery tables into the cells a site writes: its language, terms,
headers, date and number habits, identifiers and layout."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import tables
from .seeds import DIMENSIONS
from .workbook import Sheet

SHEET_FIELDS = {
    "patients": ["patient_ref", "sex", "birth_date", "birth_year", "age_at_implant", "implant_date",
                 "implant_type", "cancer_type", "drugs", "pain_location", "pump_model", "catheter_model"],
    "visits": ["patient_ref", "visit_date", "visit_label", "pain_score", *DIMENSIONS, "eq5d_state", "eq_vas"],
    "events": ["patient_ref", "onset_date", "event_term", "intervention", "serious"],
    "exits": ["patient_ref", "exit_date", "exit_reason"],
}
DATE_FIELDS = {"birth_date", "implant_date", "visit_date", "onset_date", "exit_date"}
CONCEPT_OF = {"sex": "sex", "implant_type": "implant_type", "cancer_type": "cancer_type",
              "visit_label": "visit_label", "event_term": "event_type", "exit_reason": "exit_reason",
              "serious": "yes_no"}
MULTI_CONCEPT = {"drugs": "drug", "pain_location": "pain_location", "intervention": "intervention"}
IDENTIFIER_SHEETS = {"patients": ["patient_name", "phone", "medical_record_number", "national_id", "email"],
                     "visits": ["patient_name"], "exits": ["medical_record_number"]}
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


@dataclass
class Style:
    site: pd.Series
    rng_seed: tuple
    terms: dict          # concept -> {code: term}
    headers: dict        # field -> header text
    sheet_names: dict    # kind -> sheet name
    missing_word: str
    drug_sep: str
    location_sep: str
    column_order: dict   # kind -> list of fields (incl. identifier/comment fields)
    date_format: str | None


def _pick(rng, variants: list[str]) -> str:
    return variants[int(rng.integers(len(variants)))]


def _decorate(rng, header: str, field: str, site) -> str:
    if field == "pain_score":
        header += " (0-10)" if site["pain_scale"] == "NRS11" else " (mm)"
    elif field == "eq_vas" and rng.random() < 0.5:
        header += " (0-100)"
    how = rng.choice(["plain", "plain", "upper", "lower", "newline", "star", "spaces"])
    if how == "upper":
        return header.upper()
    if how == "lower":
        return header.lower()
    if how == "newline" and " " in header:
        return header.replace(" ", "\n", 1)
    if how == "star" and field in ("patient_ref", "implant_date", "visit_date", "onset_date", "exit_date"):
        return header + " *"
    if how == "spaces":
        return f" {header} "
    return header


def site_style(site: pd.Series, seed: int, ordinal: int) -> Style:
    rng = np.random.default_rng([seed, 7, ordinal])
    lang, hlang = site["language"], site["language"] if site["header_language"] == "site" else "en"
    terms, variant = {}, {}
    for (concept, code, language), variants in tables.codes().items():
        if language == lang:
            # One variant per concept, so a site writes `M`/`F` or `male`/`female`, not a mix.
            k = variant.setdefault(concept, int(rng.integers(4)))
            terms.setdefault(concept, {})[code] = variants[k % len(variants)]
    if site["icd10"]:
        cancers = tables.parameter("cancer_types")
        terms["cancer_type"] = {r.cancer_type: _pick(rng, r.icd10.split("|")) for r in cancers.itertuples()}
    hdr = {f: _decorate(rng, _pick(rng, v), f, site) for (f, language), v in tables.headers().items() if language == hlang}
    names = {k: _pick(rng, v) for (k, language), v in tables.sheet_names().items() if language == hlang}
    birth = {"birth_date": ["birth_date"], "birth_year": ["birth_year"], "age": ["age_at_implant"],
             "birth_date+age": ["birth_date", "age_at_implant"]}[site["birth_field"]]
    idents = [x for x in site["identifiers"].split("|") if x]
    order = {}
    for kind, fields in SHEET_FIELDS.items():
        fields = [f for f in fields if f not in ("birth_date", "birth_year", "age_at_implant") or f in birth]
        if kind == "visits":
            drop = list(DIMENSIONS) if site["eq5d_state"] else ["eq5d_state"]
            fields = [f for f in fields if f not in drop]
        fields += [f for f in IDENTIFIER_SHEETS.get(kind, []) if f in idents]
        if site["comment_column"] and kind in ("patients", "events"):
            fields.append("comment")
        rest = list(rng.permutation(fields[1:]))
        # Most sites keep the subject id first; the others put it anywhere.
        pos = 0 if rng.random() < 0.7 else int(rng.integers(len(rest) + 1))
        order[kind] = rest[:pos] + ["patient_ref"] + rest[pos:]
    fmt = None
    if site["date_style"] == "text":
        parts = {"D": "%d", "M": "%m", "Y": "%Y" if site["year_digits"] == 4 else "%y"}
        fmt = site["date_sep"].join(parts[c] for c in site["date_order"])
    return Style(site, (seed, ordinal), terms, hdr, names, _pick(rng, tables.missing_words()[lang]),
                 str(rng.choice([" + ", "; ", ", ", " / "])), str(rng.choice([", ", "; "])), order, fmt)


# ---------------------------------------------------------------- cells

def _dates(style: Style, values: pd.Series, field: str) -> pd.Series:
    """Dates in the site's style; strings (planted faults) are written as they are."""
    is_text = values.map(lambda v: isinstance(v, str))
    d = pd.to_datetime(values.where(~is_text), errors="coerce")
    st = style.site["date_style"]
    if st == "excel":
        out = pd.Series(list(d.dt.to_pydatetime()), index=values.index, dtype=object)
    elif st == "serial":
        out = (d - pd.Timestamp(EXCEL_EPOCH)).dt.days.astype("Int64").astype(object)
    else:
        fmt = style.date_format
        if field == "birth_date":
            fmt = fmt.replace("%y", "%Y")
        out = d.dt.strftime(fmt)
    out = out.where(d.notna(), None)
    return out.where(~is_text, values)


def _codes(style: Style, values: pd.Series, concept: str) -> pd.Series:
    return values.map(style.terms[concept])


def _multi(style: Style, values: pd.Series, concept: str, sep: str) -> pd.Series:
    s = values.fillna("").astype(str)
    parts = s.str.split(";").explode()
    mapped = parts.map(style.terms[concept])
    out = mapped.dropna().groupby(level=0).agg(sep.join)
    return out.reindex(values.index)


def _number_text(style: Style, v: pd.Series) -> pd.Series:
    txt = v.map(lambda x: f"{x:g}")
    return txt.str.replace(".", ",", regex=False) if style.site["decimal_comma"] else txt


def _pain(style: Style, v: pd.Series) -> pd.Series:
    is_text = v.map(lambda x: isinstance(x, str))
    num = pd.to_numeric(v.where(~is_text), errors="coerce")
    how = style.site["pain_style"]
    if how == "text":
        out = _number_text(style, num)
    elif how == "text_slash":
        out = _number_text(style, num) + "/10"
    elif how == "text_mm":
        out = _number_text(style, num) + " mm"
    else:
        out = num.map(lambda x: int(x) if float(x).is_integer() else float(x))
    out = out.where(num.notna(), None)
    return out.where(~is_text, v)


def _ints(v: pd.Series) -> pd.Series:
    num = pd.to_numeric(v, errors="coerce")
    return num.astype("Int64").astype(object).where(num.notna(), None)


def cells(style: Style, kind: str, t: pd.DataFrame, identifiers: pd.DataFrame, rng) -> pd.DataFrame:
    """Cells of one sheet in the site's column order, from a canonical delivery table."""
    if not len(t):
        return pd.DataFrame(columns=style.column_order[kind], dtype=object)
    out = {}
    for f in style.column_order[kind]:
        if f in DATE_FIELDS:
            col = _dates(style, t[f], f)
        elif f in CONCEPT_OF:
            col = _codes(style, t[f], CONCEPT_OF[f])
        elif f in MULTI_CONCEPT:
            sep = style.location_sep if f == "pain_location" else style.drug_sep
            col = _multi(style, t[f], MULTI_CONCEPT[f], sep)
        elif f == "pain_score":
            col = _pain(style, t["pain_native"])
        elif f == "eq5d_state":
            lv = t[list(DIMENSIONS)]
            ok = lv.notna().all(axis=1)
            col = lv.fillna(0).astype(int).astype(str).agg("".join, axis=1).where(ok, None)
        elif f in DIMENSIONS or f in ("eq_vas", "birth_year", "age_at_implant"):
            col = _ints(t[f])
        elif f in identifiers.columns:
            col = identifiers[f].reindex(t.index)
        elif f == "comment":
            words = tables.texts()[("comment", style.site["language"])]
            col = pd.Series(np.where(rng.random(len(t)) < 0.2, rng.choice(words, len(t)), None), index=t.index)
        else:
            col = t[f]
        out[f] = col.astype(object).where(col.notna(), None) if len(col) else col
    df = pd.DataFrame(out, index=t.index)
    # Missing optional values: blank or the site's missing word (never for the id or dates).
    optional = [c for c in df.columns if c not in DATE_FIELDS and c not in ("patient_ref", "comment")
                and c not in identifiers.columns]
    if optional and len(df):
        use_word = rng.random((len(df), len(optional))) < 0.5
        block = df[optional]
        df[optional] = block.mask(block.isna() & use_word, style.missing_word)
    return df


def sheets(style: Style, tables_: dict[str, pd.DataFrame], identifiers: pd.DataFrame,
           data_cut: str, only: tuple[str, ...] = ("patients", "visits", "events", "exits"),
           drop_fields: tuple[str, ...] = ()) -> tuple[list[Sheet], dict[str, str]]:
    """The workbook's sheets and sheet kind -> sheet name."""
    site = style.site
    rng = np.random.default_rng([*style.rng_seed, int(pd.Timestamp(data_cut).strftime("%Y%m%d"))])
    lang = site["language"]
    text = tables.texts()
    out, kinds = [], {}
    for kind in only:
        t = tables_[kind]
        c = cells(style, kind, t, identifiers.reindex(t["patient_ref"]).set_axis(t.index), rng)
        c = c[[f for f in c.columns if f not in drop_fields]]
        banner = []
        if site["banner_rows"] >= 1:
            banner.append(text[("title", lang)][0].format(site_name=site["site_name"]))
        if site["banner_rows"] >= 2:
            banner.append(text[("subtitle", lang)][0].format(data_cut=data_cut))
        banner += [""] * max(0, site["banner_rows"] - 2)
        blank_after = None
        if site["blank_rows"] and len(c) > 3:
            blank_after = np.sort(rng.choice(len(c) - 1, size=max(1, len(c) // 40), replace=False))
        total = None
        if site["total_row"]:
            template = text[("total", lang)][0] if kind == "patients" else text[("total_rows", lang)][0]
            total = template.format(n=len(c))
        name = style.sheet_names[kind]
        out.append(Sheet(name, [style.headers[f] for f in c.columns], c.reset_index(drop=True), banner,
                         bool(site["merge_banner"]), blank_after, total))
        kinds[kind] = name
    return out, kinds


def identifiers_for(site: pd.Series, refs: pd.Series, seed: int, ordinal: int) -> pd.DataFrame:
    """Direct identifiers per patient ref (invented), indexed by patient_ref."""
    rng = np.random.default_rng([seed, 11, ordinal])
    n = len(refs)
    given, family = tables.person_names()[site["language"]]
    g = rng.choice(given, n)
    f = rng.choice(family, n)
    digits = lambda k: pd.Series(rng.integers(10 ** (k - 1), 10 ** k, n)).astype(str)
    ascii_ = lambda s: pd.Series(s).map(lambda x: unicodedata.normalize("NFKD", x).encode("ascii", "ignore").decode())
    df = pd.DataFrame({
        "patient_name": pd.Series(g) + " " + pd.Series(f),
        "phone": "+" + digits(2) + " " + digits(3) + " " + digits(3) + " " + digits(4),
        "medical_record_number": "MRN-" + digits(7),
        "national_id": digits(3) + "-" + digits(2) + "-" + digits(4),
        "email": (ascii_(g).str.lower() + "." + ascii_(f).str.lower().str.replace(" ", "", regex=False)
                  + digits(3) + "@mail.example"),
    })
    df.index = pd.Index(refs.to_numpy(), name="patient_ref")
    return df
