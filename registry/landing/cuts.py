"""Which accepted cut of a site is current: shrinking cuts are held, a person releases them.

A delivery is a cumulative cut (contract section 1), so a cut that would become the
site's current one (newer data cut, then later arrival) but lacks patients of the
current cut (a header-only workbook, a filtered export) is ``held``: the current cut
stays current and the held one waits, listed with what it would drop, until a data
engineer releases it (patients may leave a registry: consent withdrawn). Release is
never automatic. Patients are compared by their pseudonymised key
(``landing.patients.patient_key``), never by raw references.

The current cut of a site is always its newest accepted delivery that is not held;
a cut is judged once, when it is loaded, against the cut current at that moment.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import utc_now

# The order that makes a delivery newer: data cut, then arrival (then file time, path).
_ORDER_SQL = ("coalesce(data_cut, DATE '0001-01-01'), coalesce(arrived_at, TIMESTAMP '0001-01-01'), "
              "coalesce(modified_at, TIMESTAMP '0001-01-01'), file_path")
_ORDER_DESC = "data_cut DESC, arrived_at DESC, modified_at DESC, file_path DESC"


class ReleaseError(ValueError):
    """The delivery to release does not exist, is not held, or is ambiguous."""


@dataclass(frozen=True)
class Release:
    """What a release did (file paths, counts; no patient data)."""

    site_id: str
    file_path: str
    status: str  # the released delivery's status afterwards: current, or superseded by a newer cut
    current_file: str | None  # the site's current file afterwards
    patients_dropped: int
    released_by: str | None
    released_at: datetime


def _order_key(con, delivery_id: str) -> tuple:
    return con.execute(f"SELECT {_ORDER_SQL} FROM landing.deliveries WHERE delivery_id = ?",
                       [delivery_id]).fetchall()[0]


def _current(con, site_id: str) -> tuple[str, str] | None:
    """(delivery_id, file_name) of the site's current delivery."""
    rows = con.execute("SELECT delivery_id, file_name FROM landing.deliveries WHERE site_id = ? AND "
                       "status = 'current'", [site_id]).fetchall()
    return rows[0] if rows else None


def dropped_patients(con, delivery_id: str, than: str) -> tuple[int, int]:
    """(patients of delivery ``than`` missing from ``delivery_id``, patients of ``than``),
    by patient_key."""
    dropped, total = con.execute(
        "SELECT count(DISTINCT o.patient_key) FILTER (WHERE n.patient_key IS NULL), count(DISTINCT o.patient_key) "
        "FROM (SELECT DISTINCT patient_key FROM landing.patients WHERE delivery_id = ? AND patient_key IS NOT NULL) o "
        "LEFT JOIN (SELECT DISTINCT patient_key FROM landing.patients WHERE delivery_id = ? "
        "AND patient_key IS NOT NULL) n USING (patient_key)",
        [than, delivery_id],
    ).fetchall()[0]
    return int(dropped or 0), int(total or 0)


def judge_cut(con, site_id: str, delivery_id: str) -> tuple[str, str | None]:
    """(status, reason) of a delivery whose rows were just written: ``held`` when it would
    become current and drops patients of the current cut, else ``superseded`` (the site's
    newest non-held accepted delivery is then made current by ``settle_current``)."""
    current = _current(con, site_id)
    if current is None or _order_key(con, delivery_id) < _order_key(con, current[0]):
        return "superseded", None
    dropped, total = dropped_patients(con, delivery_id, current[0])
    if dropped:
        return "held", f"held: would drop {dropped} of {total} patients of the current cut {current[1]}"
    return "superseded", None


def settle_current(con, site_id: str) -> str | None:
    """Mark the newest accepted, non-held delivery of the site current, the others superseded;
    returns the current file name."""
    con.execute(
        "UPDATE landing.deliveries AS d SET status = CASE WHEN r.rank = 1 THEN 'current' ELSE 'superseded' END "
        f"FROM (SELECT delivery_id, row_number() OVER (ORDER BY {_ORDER_DESC}) "
        "AS rank FROM landing.deliveries "
        "WHERE site_id = ? AND status IN ('current', 'superseded')) AS r "
        "WHERE d.delivery_id = r.delivery_id",
        [site_id],
    )
    current = _current(con, site_id)
    return current[1] if current else None


def held_deliveries(con, site_id: str | None = None) -> list[dict[str, object]]:
    """Held deliveries (of one site or all): site, file path, data cut, reason."""
    rows = con.execute(
        "SELECT site_id, file_path, file_name, data_cut, reason FROM landing.deliveries "
        "WHERE status = 'held' AND (? IS NULL OR site_id = ?) ORDER BY site_id, data_cut, file_path",
        [site_id, site_id],
    ).fetchall()
    return [{"site_id": s, "file_path": p, "file_name": n, "data_cut": c, "reason": r} for s, p, n, c, r in rows]


def release_delivery(con, site_id: str, file: str, *, released_by: str | None = None,
                     released_at: datetime | None = None) -> Release:
    """Release a held delivery of ``site_id``: it is accepted as the site's cut, and becomes
    current unless a newer accepted cut exists. ``file`` is the file name or the inbox-relative
    path; ``released_by`` / ``released_at`` (default now, UTC) are recorded on the delivery.
    Raises ReleaseError when no held delivery matches, or more than one does."""
    ensure_landing_schema(con)
    rows = con.execute(
        "SELECT delivery_id, file_path, status, reason FROM landing.deliveries "
        "WHERE site_id = ? AND (file_name = ? OR file_path = ?)",
        [site_id, file, file],
    ).fetchall()
    held = [r for r in rows if r[2] == "held"]
    if not held:
        statuses = sorted({r[2] for r in rows})
        found = f"its status is {', '.join(statuses)}" if rows else "no delivery of the site has that name"
        raise ReleaseError(f"{site_id} {file}: not a held delivery ({found})")
    if len(held) > 1:
        raise ReleaseError(f"{site_id} {file}: {len(held)} held deliveries match; give the file path "
                           f"({', '.join(r[1] for r in held)})")
    delivery_id, file_path, _, reason = held[0]
    when = released_at or utc_now()
    current = _current(con, site_id)
    dropped = dropped_patients(con, delivery_id, current[0])[0] if current else 0
    note = (reason or "held").replace("held: would drop", "released: drops", 1)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE landing.deliveries SET status = 'superseded', reason = ?, released_by = ?, released_at = ? "
            "WHERE delivery_id = ?",
            [note, released_by, when, delivery_id],
        )
        current_file = settle_current(con, site_id)
        status = con.execute("SELECT status FROM landing.deliveries WHERE delivery_id = ?",
                             [delivery_id]).fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Release(site_id, file_path, status, current_file, dropped, released_by, when)
