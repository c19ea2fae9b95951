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
    country: str | None  # the site's country (its landing partition)
    file_path: str
    status: str  # the released delivery's status afterwards: current, or superseded by a newer cut
    current_file: str | None  # the site's current file afterwards
    patients_dropped: int
    released_by: str | None
    released_at: datetime


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


def judge_new_cuts(con, delivery_ids: list[str]) -> dict[str, str]:
    """Judge newly written deliveries (status ``pending``, their rows landed): a delivery that
    would become its site's current one and drops patients of the current cut is ``held``;
    the others are accepted (``superseded``, then settled). Returns delivery -> held reason.

    A site's new cuts are judged one after the other, oldest first, each against the cut
    current at that moment; many sites are judged together, one round per cut (set-based:
    a few statements per round, whatever the number of sites)."""
    if not delivery_ids:
        return {}
    held: dict[str, str] = {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _new_cuts AS SELECT delivery_id, site_id, "
        f"row_number() OVER (PARTITION BY site_id ORDER BY {_ORDER_SQL}) AS round FROM landing.deliveries "
        "WHERE delivery_id IN (SELECT unnest(?::VARCHAR[]))", [list(delivery_ids)])
    try:
        (rounds,) = con.execute("SELECT max(round) FROM _new_cuts").fetchall()[0]
        for number in range(1, int(rounds or 0) + 1):
            verdicts = con.execute(
                f"""
                WITH cand AS (
                    SELECT d.delivery_id, d.site_id, row({_ORDER_SQL}) AS o FROM landing.deliveries d
                    JOIN _new_cuts n USING (delivery_id) WHERE n.round = $round),
                cur AS (
                    SELECT d.site_id, d.delivery_id AS cur_id, d.file_name AS cur_name, row({_ORDER_SQL}) AS o
                    FROM landing.deliveries d WHERE d.status = 'current'
                      AND d.site_id IN (SELECT site_id FROM cand)),
                pairs AS (
                    SELECT c.delivery_id, u.cur_id, u.cur_name FROM cand c JOIN cur u USING (site_id)
                    WHERE NOT (c.o < u.o)),
                old AS (
                    SELECT DISTINCT p.delivery_id, o.patient_key FROM pairs p
                    JOIN landing.patients o ON o.delivery_id = p.cur_id WHERE o.patient_key IS NOT NULL),
                new AS (
                    SELECT DISTINCT p.delivery_id, n.patient_key FROM pairs p
                    JOIN landing.patients n ON n.delivery_id = p.delivery_id WHERE n.patient_key IS NOT NULL),
                drops AS (
                    SELECT o.delivery_id, count(*) FILTER (WHERE n.patient_key IS NULL) AS dropped,
                           count(*) AS total
                    FROM old o LEFT JOIN new n USING (delivery_id, patient_key) GROUP BY o.delivery_id)
                SELECT c.delivery_id, c.site_id, coalesce(dr.dropped, 0), coalesce(dr.total, 0), p.cur_name
                FROM cand c LEFT JOIN pairs p USING (delivery_id) LEFT JOIN drops dr USING (delivery_id)
                """, {"round": number}).fetchall()
            statuses, reasons = {}, {}
            for delivery_id, _, dropped, total, current_name in verdicts:
                if dropped:
                    reasons[delivery_id] = (f"held: would drop {dropped} of {total} patients of the current cut "
                                            f"{current_name}")
                statuses[delivery_id] = "held" if dropped else "superseded"
            held.update(reasons)
            con.execute(
                "UPDATE landing.deliveries AS d SET status = v.status, reason = v.reason FROM "
                "(SELECT unnest(?::VARCHAR[]) AS delivery_id, unnest(?::VARCHAR[]) AS status, "
                "unnest(?::VARCHAR[]) AS reason) v WHERE d.delivery_id = v.delivery_id",
                [list(statuses), list(statuses.values()), [reasons.get(d) for d in statuses]])
            settle_sites(con, sorted({site for _, site, *_ in verdicts}))
    finally:
        con.execute("DROP TABLE IF EXISTS _new_cuts")
    return held


def settle_sites(con, site_ids: list[str]) -> None:
    """Mark each site's newest accepted, non-held delivery current, the others superseded."""
    if not site_ids:
        return
    con.execute(
        "UPDATE landing.deliveries AS d SET status = CASE WHEN r.rank = 1 THEN 'current' ELSE 'superseded' END "
        f"FROM (SELECT delivery_id, row_number() OVER (PARTITION BY site_id ORDER BY {_ORDER_DESC}) "
        "AS rank FROM landing.deliveries "
        "WHERE site_id IN (SELECT unnest(?::VARCHAR[])) AND status IN ('current', 'superseded')) AS r "
        "WHERE d.delivery_id = r.delivery_id AND d.status <> CASE WHEN r.rank = 1 THEN 'current' ELSE 'superseded' END",
        [list(site_ids)],
    )


def settle_current(con, site_id: str) -> str | None:
    """``settle_sites`` for one site; returns its current file name."""
    settle_sites(con, [site_id])
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
    country = con.execute("SELECT country FROM landing.site_master WHERE site_id = ?", [site_id]).fetchall()
    return Release(site_id, country[0][0] if country else None, file_path, status, current_file, dropped,
                   released_by, when)
