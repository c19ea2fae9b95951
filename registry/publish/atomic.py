"""Atomic publish of the marts, every publish kept, and as-of analyses.

Layout of a publish folder::

    <publish_dir>/history/<UTC time>_<publish id>/...   every publish, complete, never overwritten
    <publish_dir>/current -> history/<...>              the current publish (a symbolic link)
    <publish_dir>/marts.duckdb -> current/marts.duckdb  stable names analysts open (links), also
                  *.parquet, registry_marts.xlsx, report.html, site_feedback, manifest.json
    <publish_dir>/as-of/<YYYY-MM-DD>/...                the latest as-of analysis of that date,
                                                        laid out the same way

Every file is first written complete into a staging folder inside the publish
folder (same file system), which is then renamed to its history name: a history
folder is whole or absent. The publish then happens in one step: the ``current``
link is replaced by one pointing at the new history folder (``os.replace`` of a
link, atomic on POSIX). The stable names are links through ``current``, so a reader
opening ``marts.duckdb`` opens the previous complete publish or the new one, never a
mix, and a crash at any moment leaves one complete publish visible (or none before
the first). A reader that already has ``marts.duckdb`` open keeps reading its file,
which is never changed. ``marts.duckdb`` carries its own ``publish_info`` and
``publish_marts`` tables; each Parquet file has the publish id in its metadata.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import present
from .duckdb_file import write_marts_duckdb
from .excel import write_workbook
from .parquet_files import write_parquet
from .provenance import data_cut_range, headline, site_data_cuts
from .report import build_report
from .site_feedback import (
    FEEDBACK_DIR,
    SiteFeedback,
    feedback_digest,
    feedback_file_name,
    write_site_feedback,
)

MARTS_DUCKDB = "marts.duckdb"
WORKBOOK = "registry_marts.xlsx"
REPORT = "report.html"
MANIFEST = "manifest.json"
HISTORY = "history"
AS_OF = "as-of"
STAGING_PREFIX = ".publish-"
INCOMING_PREFIX = ".incoming-"
CURRENT, HISTORY_KIND, AS_OF_KIND = "current", "history", "as-of"
CURRENT_LINK = "current"


@dataclass(frozen=True)
class PublishResult:
    publish_id: str
    published_at: str
    publish_dir: Path
    marts_duckdb: Path
    workbook: Path
    report: Path
    manifest: Path
    parquet: dict[str, Path] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    kind: str = CURRENT
    as_of: str | None = None
    location: Path | None = None  # the live folder: publish_dir, or as-of/<date>/
    history_dir: Path | None = None
    site_feedback: dict[str, Path] = field(default_factory=dict)


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _as_of_date(value) -> str:
    """An as-of date as ``YYYY-MM-DD`` (a date, a timestamp or ISO text)."""
    parsed = present.as_date(value)
    if parsed is None:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {value!r}")
    return parsed.isoformat()


def history_name(published_at: str, publish_id: str) -> str:
    """``20170802T100000Z_<publish id>``: sorts by time, unique by id."""
    stamp = datetime.fromisoformat(published_at).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}_{publish_id}"


def publish(marts: dict[str, pd.DataFrame], publish_dir: Path, provenance: dict, *,
            comparison: pd.DataFrame | None = None,
            small_cell_max: int,
            as_of=None,
            follow_up: pd.DataFrame | None = None,
            site_feedback: Sequence[SiteFeedback] | None = None,
            workers: int | None = None) -> PublishResult:
    """Write marts.duckdb, one <mart>.parquet per mart, registry_marts.xlsx,
    report.html, site_feedback/<SITE_ID>.xlsx and manifest.json, keep a
    complete copy under history/, and swap the files into the live folder
    atomically per file, the manifest last.

    ``provenance``: data_cut, load_id, deliveries (list of dicts with site_id,
    file_name, data_cut, status), generated_at, git_revision.
    ``comparison`` (from ``registry.marts.paper.compare``) goes into the report.
    ``small_cell_max``: the bound the marts were suppressed with (shown as
    ``<small_cell_max + 1>``). ``as_of`` (a date): publish an as-of analysis
    to ``as-of/<YYYY-MM-DD>/`` instead of replacing the current publish.
    ``follow_up`` (region, days, died per patient) draws regional
    Kaplan-Meier curves in the report; it is never written.
    ``site_feedback``: one ``SiteFeedback`` per site (see ``site_feedback``).
    ``workers``: processes writing the site feedback workbooks when there are many
    (default: one per core).
    """
    publish_dir = Path(publish_dir)
    publish_dir.mkdir(parents=True, exist_ok=True)
    as_of = _as_of_date(as_of) if as_of is not None else None
    kind = AS_OF_KIND if as_of else CURRENT
    live = publish_dir / AS_OF / as_of if as_of else publish_dir
    live.mkdir(parents=True, exist_ok=True)
    publish_id = uuid.uuid4().hex[:16]
    published_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    row_counts = {name: int(len(df)) for name, df in marts.items()}
    cuts = site_data_cuts(marts, provenance)
    cut_range = data_cut_range(cuts)
    info = {"publish_id": publish_id, "published_at": published_at,
            "data_cut": provenance.get("data_cut"), "load_id": provenance.get("load_id"),
            "kind": kind, "as_of": as_of, **cut_range}
    feedback_names = {}
    for fb in site_feedback or []:
        feedback_names[str(fb.site_id)] = f"{FEEDBACK_DIR}/{feedback_file_name(fb.site_id)}"
    files = [MARTS_DUCKDB, WORKBOOK, REPORT, *(f"{n}.parquet" for n in marts),
             *feedback_names.values()]
    # A site whose feedback says what it said in the previous publish gets that workbook again.
    digests = {str(fb.site_id): feedback_digest(fb) for fb in site_feedback or []}
    earlier = _previous_feedback(live)
    carry = {site: earlier[site]["path"] for site, digest in digests.items()
             if site in earlier and earlier[site]["digest"] == digest}
    manifest = {**info, "small_cell_max": small_cell_max, "provenance": provenance,
                "sites": cuts.to_dict("records"), "row_counts": row_counts, "files": files,
                "site_feedback": {site: {"file": feedback_names[site], "digest": digest,
                                         "written_by": earlier[site]["written_by"] if site in carry else publish_id}
                                  for site, digest in digests.items()}}
    km_notes = {"min_events": small_cell_max + 1,
                "regions_drawn": follow_up is not None and "region" in follow_up.columns}
    facts = [("Publish id", publish_id), ("Published", present.timestamp(published_at)),
             ("Kind", "as-of analysis" if as_of else "current publish"),
             ("As of", as_of or "–"),
             ("Data cuts", headline(cut_range, provenance.get("data_cut"))),
             ("Load id", str(provenance.get("load_id") or "not recorded")),
             ("Code revision", str(provenance.get("git_revision") or "not recorded")),
             ("Small-cell bound", str(small_cell_max) if small_cell_max > 0 else "none")]

    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=publish_dir))
    history_dir = publish_dir / HISTORY / history_name(published_at, publish_id)
    try:
        for name, df in marts.items():
            write_parquet(df, staging / f"{name}.parquet", publish_id)
        write_workbook(marts, staging / WORKBOOK, facts=facts, sites=cuts,
                       small_cell_max=small_cell_max, km_notes=km_notes)
        (staging / REPORT).write_text(
            build_report(marts, provenance, publish_id, published_at, comparison,
                         small_cell_max=small_cell_max, follow_up=follow_up,
                         site_feedback=site_feedback, as_of=as_of),
            encoding="utf-8")
        write_site_feedback(site_feedback or [], staging / FEEDBACK_DIR,
                            publish_id=publish_id, published_at=published_at, carry=carry,
                            workers=workers)
        write_marts_duckdb(marts, staging / MARTS_DUCKDB, info)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default),
                                        encoding="utf-8")
        _keep_in_history(staging, history_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    names = [MARTS_DUCKDB, WORKBOOK, REPORT, MANIFEST, *(f"{n}.parquet" for n in marts)]
    if site_feedback:
        names.append(FEEDBACK_DIR)
    _switch(live, history_dir, names)
    return PublishResult(
        publish_id=publish_id, published_at=published_at, publish_dir=publish_dir,
        marts_duckdb=live / MARTS_DUCKDB, workbook=live / WORKBOOK,
        report=live / REPORT, manifest=live / MANIFEST,
        parquet={name: live / f"{name}.parquet" for name in marts},
        row_counts=row_counts, kind=kind, as_of=as_of, location=live, history_dir=history_dir,
        site_feedback={site: live / name for site, name in feedback_names.items()})


def _previous_feedback(live: Path) -> dict[str, dict]:
    """Site -> digest, publish that wrote it and path of its feedback workbook in the publish
    ``live`` shows now (nothing when there is none, or it predates the digests)."""
    try:
        folder = (live / CURRENT_LINK).resolve(strict=True)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for site, entry in (manifest.get("site_feedback") or {}).items():
        path = folder / str(entry.get("file", ""))
        if entry.get("digest") and entry.get("written_by") and path.is_file() and folder in path.resolve().parents:
            out[site] = {"digest": entry["digest"], "written_by": entry["written_by"], "path": path}
    return out


def _switch(live: Path, history_dir: Path, names: list[str]) -> None:
    """Make ``history_dir`` the publish ``live`` shows, in one atomic step.

    First every stable name of the new publish becomes a link through ``current``
    (a name new to this publish dangles until the switch: it is absent, as before);
    then ``current`` is replaced by a link to the new history folder; last, names the
    new publish no longer has are removed."""
    for name in names:
        path = live / name
        target = Path(CURRENT_LINK) / name
        if path.is_symlink() and Path(os.readlink(path)) == target:
            continue
        _replace_with_link(path, target)
    _replace_with_link(live / CURRENT_LINK, Path(os.path.relpath(history_dir, live)))
    for path in live.iterdir():
        if path.name in names or path.name in (CURRENT_LINK, HISTORY, AS_OF) or path.name.startswith("."):
            continue
        if path.is_symlink() or path.suffix == ".parquet" or path.name == FEEDBACK_DIR:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _replace_with_link(path: Path, target: Path) -> None:
    """``path`` becomes a symbolic link to ``target`` atomically (a file or an older link is
    replaced by rename; a folder left by an older layout is moved aside first)."""
    tmp = path.with_name(f".{path.name}.link-{uuid.uuid4().hex[:8]}")
    os.symlink(target, tmp)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


def _keep_in_history(staging: Path, history_dir: Path) -> None:
    """A complete copy under its own new name: copied aside, then renamed."""
    history_dir.parent.mkdir(parents=True, exist_ok=True)
    incoming = history_dir.parent / f"{INCOMING_PREFIX}{history_dir.name}"
    os.rename(staging, incoming)
    try:
        os.rename(incoming, history_dir)  # a new name: never over an older publish
    except OSError:
        shutil.rmtree(incoming, ignore_errors=True)
        raise


# --- listing ----------------------------------------------------------------

PUBLISH_COLUMNS = ["publish_id", "published_at", "kind", "as_of", "data_cut_min", "data_cut_max",
                   "n_sites", "path", "history_path", "files"]


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cut_range(manifest: dict) -> dict:
    """Data cut range of a manifest; older manifests only name one data cut."""
    if "data_cut_min" in manifest:
        return {k: manifest.get(k) for k in ("data_cut_min", "data_cut_max", "n_sites")}
    deliveries = (manifest.get("provenance") or {}).get("deliveries") or []
    cuts = data_cut_range(site_data_cuts({}, {"deliveries": deliveries}))
    if cuts["data_cut_min"] is None and manifest.get("data_cut"):
        cuts.update(data_cut_min=manifest["data_cut"], data_cut_max=manifest["data_cut"])
    return cuts


def list_publishes(publish_dir: Path) -> pd.DataFrame:
    """One row per publish found under ``publish_dir``, newest first:
    publish_id, published_at, kind (``current``, ``as-of`` or ``history``),
    as_of, data_cut_min, data_cut_max, n_sites, path (where to open it: the
    live folder for the current and as-of publishes, else its history
    folder), history_path, files."""
    publish_dir = Path(publish_dir)
    found: dict[str, dict] = {}

    def add(folder: Path, kind: str) -> None:
        manifest = _read_manifest(folder)
        if not manifest or "publish_id" not in manifest:
            return
        pid = manifest["publish_id"]
        row = found.setdefault(pid, {
            "publish_id": pid, "published_at": manifest.get("published_at"),
            "kind": kind, "as_of": manifest.get("as_of"), **_cut_range(manifest),
            "path": str(folder), "history_path": None, "files": manifest.get("files", [])})
        if kind == HISTORY_KIND:
            row["history_path"] = str(folder)
        elif row["kind"] == HISTORY_KIND or kind == CURRENT:
            row.update(kind=kind, path=str(folder))

    history = publish_dir / HISTORY
    if history.is_dir():
        for folder in sorted(history.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                add(folder, HISTORY_KIND)
    as_of_root = publish_dir / AS_OF
    if as_of_root.is_dir():
        for folder in sorted(as_of_root.iterdir()):
            if folder.is_dir():
                add(folder, AS_OF_KIND)
    add(publish_dir, CURRENT)
    table = pd.DataFrame(list(found.values()), columns=PUBLISH_COLUMNS)
    return table.sort_values(["published_at", "publish_id"], ascending=False,
                             na_position="last").reset_index(drop=True)


def format_publishes(table: pd.DataFrame) -> str:
    """Fixed-width text of ``list_publishes`` for a terminal."""
    if table.empty:
        return "No publish found."
    shown = pd.DataFrame({
        "publish id": table["publish_id"],
        "published": [present.timestamp(v) for v in table["published_at"]],
        "kind": table["kind"],
        "as of": table["as_of"].fillna("").astype(str),
        "data cuts": [(f"{lo} to {hi}" if lo != hi else str(lo)) if lo else "not recorded"
                      for lo, hi in zip(table["data_cut_min"], table["data_cut_max"])],
        "sites": table["n_sites"].fillna(0).astype(int).astype(str),
        "path": table["path"],
    })
    widths = {c: max(len(c), *(len(str(v)) for v in shown[c])) for c in shown.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in shown.columns),
             "  ".join("-" * widths[c] for c in shown.columns)]
    lines += ["  ".join(str(v).ljust(widths[c]) for c, v in row.items())
              for _, row in shown.iterrows()]
    return "\n".join(lines)
