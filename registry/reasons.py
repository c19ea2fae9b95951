"""Which field each row-level rejection reason points at (docs/architecture.md, "Reason
codes"), per sheet kind (``any`` for all): the column a site must correct. Used wherever a
rejected row is shown with its column (``registry rejections``, the site feedback)."""
from __future__ import annotations

REASON_FIELDS: dict[str, dict[str, str]] = {
    "missing_patient_ref": {"any": "patient_ref"},
    "unknown_patient_ref": {"any": "patient_ref"},
    "duplicate_patient_ref": {"any": "patient_ref"},
    "duplicate_exit": {"any": "patient_ref"},
    "missing_date": {"patients": "implant_date", "visits": "visit_date", "events": "onset_date",
                     "exits": "exit_date"},
    "unparseable_date": {"visits": "visit_date", "events": "onset_date", "exits": "exit_date"},
    "date_after_data_cut": {"patients": "implant_date", "visits": "visit_date",
                            "events": "onset_date", "exits": "exit_date"},
    "before_implant": {"events": "onset_date", "exits": "exit_date"},
    "pain_out_of_range": {"any": "pain_score"},
    "eq5d_level_out_of_range": {"any": "eq5d"},
    "eq_vas_out_of_range": {"any": "eq_vas"},
}


def field_for(reasons: str, sheet_kind: str) -> str | None:
    """The field the first of ``reasons`` (`;`-separated) points at, if one does."""
    for reason in str(reasons).split(";"):
        fields = REASON_FIELDS.get(reason.strip(), {})
        found = fields.get(sheet_kind) or fields.get("any")
        if found:
            return found
    return None
