"""DDL of the landing zone (docs/architecture.md, "Landing zone").

Everything the sites wrote is stored as VARCHAR; only lineage is typed.
"""
from __future__ import annotations

LINEAGE_COLUMNS = (
    "load_id", "delivery_id", "site_id", "file_name", "sheet_name",
    "source_row", "file_sha256", "data_cut", "patient_key",
)

# Canonical fields stored per sheet kind, in table order (patient_ref is never stored).
SHEET_FIELDS: dict[str, tuple[str, ...]] = {
    "patients": (
        "sex", "birth_date", "birth_year", "age_at_implant", "implant_date", "implant_type",
        "cancer_type", "drugs", "pain_location", "pump_model", "catheter_model",
    ),
    "visits": (
        "visit_date", "visit_label", "pain_score", "mobility", "self_care", "usual_activities",
        "pain_discomfort", "anxiety_depression", "eq5d_state", "eq_vas",
    ),
    "events": ("onset_date", "event_term", "intervention", "serious"),
    "exits": ("exit_date", "exit_reason"),
}

# Columns a sheet must have, or the whole file is rejected (missing_required_column).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "patients": ("patient_ref", "implant_date"),
    "visits": ("patient_ref",),
    "events": ("patient_ref",),
    "exits": ("patient_ref",),
}

DELIVERY_STATUSES = ("pending", "current", "superseded", "held", "rejected", "duplicate", "ignored")

_FIXED_TABLES = """
CREATE SCHEMA IF NOT EXISTS landing;
CREATE TABLE IF NOT EXISTS landing.site_master (
    site_id VARCHAR, site_name VARCHAR, country VARCHAR, region VARCHAR, language VARCHAR,
    date_order VARCHAR, pain_scale VARCHAR, eq5d_version VARCHAR, loaded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS landing.deliveries (
    delivery_id VARCHAR, site_id VARCHAR, file_path VARCHAR, file_name VARCHAR,
    file_sha256 VARCHAR, size_bytes BIGINT, data_cut DATE, data_cut_source VARCHAR,
    arrived_at TIMESTAMP, status VARCHAR, reason VARCHAR, load_id VARCHAR,
    sheets VARCHAR, ignored_sheets VARCHAR, modified_at TIMESTAMP, recognition_version VARCHAR,
    released_by VARCHAR, released_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS landing.inbox_strays (
    file_path VARCHAR, site_folder VARCHAR, file_name VARCHAR, size_bytes BIGINT,
    modified_at TIMESTAMP, status VARCHAR, reason VARCHAR, load_id VARCHAR, seen_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS landing.sheet_loads (
    delivery_id VARCHAR, sheet_kind VARCHAR, sheet_name VARCHAR, header_row INTEGER,
    rows_read INTEGER, data_rows INTEGER, blank_rows INTEGER, note_rows INTEGER,
    mapped_columns VARCHAR, unknown_columns VARCHAR, identifier_columns_dropped VARCHAR,
    ambiguous_columns VARCHAR, recognition VARCHAR
);
CREATE TABLE IF NOT EXISTS landing.note_rows (
    delivery_id VARCHAR, sheet_name VARCHAR, source_row INTEGER, text VARCHAR
);
CREATE TABLE IF NOT EXISTS landing.unknown_columns (
    delivery_id VARCHAR, site_id VARCHAR, sheet_kind VARCHAR, sheet_name VARCHAR, position INTEGER,
    header VARCHAR, status VARCHAR, candidates VARCHAR, n_values INTEGER, n_distinct INTEGER,
    identifier_patterns VARCHAR, max_length INTEGER, share_numeric DOUBLE, share_date_like DOUBLE,
    load_id VARCHAR
);
CREATE TABLE IF NOT EXISTS landing.header_overrides (
    site_id VARCHAR, sheet_kind VARCHAR, header VARCHAR, normalised_header VARCHAR, target VARCHAR,
    source_line INTEGER, loaded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS landing.term_overrides (
    site_id VARCHAR, concept VARCHAR, term VARCHAR, normalised_term VARCHAR, code VARCHAR,
    source_line INTEGER, loaded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS landing.not_collected (
    site_id VARCHAR, sheet_kind VARCHAR, field VARCHAR, reason VARCHAR, source_line INTEGER,
    loaded_at TIMESTAMP
);
"""

# Columns no longer kept (unknown columns' values used to be stored as `extra_columns`:
# dropped with their values from warehouses created before).
_DROPPED_COLUMNS = {kind: ("extra_columns",) for kind in SHEET_FIELDS}


def _sheet_table_ddl(kind: str) -> str:
    fields = ", ".join(f"{field} VARCHAR" for field in SHEET_FIELDS[kind])
    return (
        f"CREATE TABLE IF NOT EXISTS landing.{kind} ("
        "load_id VARCHAR, delivery_id VARCHAR, site_id VARCHAR, file_name VARCHAR, "
        "sheet_name VARCHAR, source_row INTEGER, file_sha256 VARCHAR, data_cut DATE, "
        f"patient_key VARCHAR, {fields})"
    )


# Columns added after a table was first shipped: (table, column, type), added when missing.
_ADDED_COLUMNS = (
    ("deliveries", "recognition_version", "VARCHAR"),
    ("deliveries", "released_by", "VARCHAR"),  # who released a held delivery (cuts.release_delivery)
    ("deliveries", "released_at", "TIMESTAMP"),
    ("sheet_loads", "ambiguous_columns", "VARCHAR"),
    ("sheet_loads", "recognition", "VARCHAR"),
)


def ensure_landing_schema(con) -> None:
    """Create the landing schema and its tables if missing (idempotent)."""
    con.execute(_FIXED_TABLES)
    present = {tuple(r) for r in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'landing' "
        "AND database_name = current_database()").fetchall()}
    for table, column, kind in _ADDED_COLUMNS:
        if (table, column) not in present:
            con.execute(f"ALTER TABLE landing.{table} ADD COLUMN IF NOT EXISTS {column} {kind}")
    for kind in SHEET_FIELDS:
        con.execute(_sheet_table_ddl(kind))
    for table, columns in _DROPPED_COLUMNS.items():
        for column in columns:
            if (table, column) in present:
                con.execute(f"ALTER TABLE landing.{table} DROP COLUMN {column}")
