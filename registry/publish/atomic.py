"""Atomic publish of the marts to the publish folder.

Every file is first written complete into a staging folder inside the
publish folder (same file system), then moved over its stable name with
``os.replace``, which is atomic on POSIX: a reader opens either the old file
or the new one. A reader that already has ``marts.duckdb`` open keeps reading
the old file (its inode lives until closed), so it never fails and never
mixes two publishes.

Order of the moves: the Parquet files, the workbook and the report first,
then ``marts.duckdb``, and ``manifest.json`` last. When the manifest names a
publish id, every file of that publish is in place; ``marts.duckdb`` carries
its own ``publish_info`` and ``publish_marts`` tables, so it can be checked on
its own; each Parquet file has the publish id in its metadata.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .duckdb_file import write_marts_duckdb
from .excel import write_workbook
from .parquet_files import write_parquet
from .report import build_report

MARTS_DUCKDB = "marts.duckdb"
WORKBOOK = "registry_marts.xlsx"
REPORT = "report.html"
MANIFEST = "manifest.json"
STAGING_PREFIX = ".publish-"


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


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def publish(marts: dict[str, pd.DataFrame], publish_dir: Path, provenance: dict, *,
            comparison: pd.DataFrame | None = None) -> PublishResult:
    """Write marts.duckdb, one <mart>.parquet per mart, registry_marts.xlsx,
    report.html and manifest.json to ``publish_dir``, atomically per file, the
    manifest last. ``provenance``: data_cut, load_id, deliveries (list of dicts
    with site_id, file_name, data_cut, status), generated_at, git_revision.
    ``comparison`` (from ``registry.marts.paper.compare``) goes into the report.
    """
    publish_dir = Path(publish_dir)
    publish_dir.mkdir(parents=True, exist_ok=True)
    publish_id = uuid.uuid4().hex[:16]
    published_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    row_counts = {name: int(len(df)) for name, df in marts.items()}
    info = {"publish_id": publish_id, "published_at": published_at,
            "data_cut": provenance.get("data_cut"), "load_id": provenance.get("load_id")}
    manifest = {**info, "provenance": provenance, "row_counts": row_counts,
                "files": [MARTS_DUCKDB, WORKBOOK, REPORT, *(f"{n}.parquet" for n in marts)]}

    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=publish_dir))
    try:
        staged = [(staging / f"{name}.parquet", write_parquet(df, staging / f"{name}.parquet",
                                                               publish_id))
                  for name, df in marts.items()]
        write_workbook(marts, staging / WORKBOOK)
        (staging / REPORT).write_text(
            build_report(marts, provenance, publish_id, published_at, comparison),
            encoding="utf-8")
        write_marts_duckdb(marts, staging / MARTS_DUCKDB, info)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default),
                                        encoding="utf-8")
        order = [p for p, _ in staged] + [staging / WORKBOOK, staging / REPORT,
                                          staging / MARTS_DUCKDB, staging / MANIFEST]
        for path in order:
            os.replace(path, publish_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_dropped_parquet(publish_dir, set(marts))
    return PublishResult(
        publish_id=publish_id, published_at=published_at, publish_dir=publish_dir,
        marts_duckdb=publish_dir / MARTS_DUCKDB, workbook=publish_dir / WORKBOOK,
        report=publish_dir / REPORT, manifest=publish_dir / MANIFEST,
        parquet={name: publish_dir / f"{name}.parquet" for name in marts},
        row_counts=row_counts)


def _remove_dropped_parquet(publish_dir: Path, names: set[str]) -> None:
    """A mart no longer published must not linger as a stale Parquet file."""
    for path in publish_dir.glob("*.parquet"):
        if path.stem not in names:
            path.unlink(missing_ok=True)
