"""The dbt project's manifest, which defines the dbt assets: `dbt parse`, run only when the
project's files or the dbt version changed since the last parse.

The manifest and dbt's partial-parse state are kept beside the project (``target/``, dbt's
own place), one for every warehouse and state folder: nothing of a warehouse enters the
parse (the profile's plugin reads the warehouse's path when dbt connects,
``registry/warehouse_for_dbt.py``), so a fresh warehouse does not parse the project again.

Light on imports (no Dagster, no dbt), so that a command can start the parse first and
load everything else while it runs on the other core (``start_preparing``).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from registry.config import DBT_PROJECT_DIR

# dbt is installed beside this interpreter, which need not be on PATH
# (`.venv/bin/dagster dev` started without an activated virtualenv).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

# What `dbt parse` reads: a change to any of these makes the next command parse again.
PARSED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def dbt_vars(**values: object) -> list[str]:
    """`--vars` for a dbt invocation that needs some (an analysis's `as_of`), else nothing.
    Vars enter dbt's partial-parse state: an invocation with vars parses the project again."""
    return ["--vars", json.dumps(values, sort_keys=True)] if values else []


def manifest_target(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where the prepared manifest and partial-parse state are: dbt's target folder."""
    return project_dir / "target"


def dbt_version() -> str:
    """The installed dbt-core's version: that of the dbt beside this interpreter."""
    from importlib.metadata import version

    return version("dbt-core")


def project_digest(project_dir: Path) -> str:
    """SHA-256 of the dbt project's files and the dbt version."""
    digest = hashlib.sha256(f"{dbt_version()}\0".encode())
    for path in sorted(p for p in project_dir.rglob("*") if p.suffix in PARSED_SUFFIXES and p.is_file()
                       and p.relative_to(project_dir).parts[0] not in ("target", "logs", "dbt_packages")):
        digest.update(f"{path.relative_to(project_dir).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def start_dbt_parse(project_dir: Path, target: Path) -> subprocess.Popen:
    """`dbt parse` of the project into ``target``, started. dbt is run directly: dagster-dbt's
    CLI resource would first ask dbt its version and set up an adapter, 3 s that a parse
    does not need."""
    return subprocess.Popen(
        [DBT_EXECUTABLE, "parse", "--quiet", "--no-use-colors",
         "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
         "--target-path", str(target), "--log-path", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


@dataclass
class Preparation:
    """A manifest being prepared: ``wait()`` returns its path once it is there."""

    manifest: Path
    project_dir: Path = DBT_PROJECT_DIR
    lock: IO | None = None
    parse: subprocess.Popen | None = None
    stamp: Path | None = None
    digest: str = ""

    @property
    def parsing(self) -> bool:
        return self.parse is not None and self.lock is not None

    def wait(self) -> Path:
        if self.lock is None:
            return self.manifest
        try:
            if self.parse is not None:
                output, _ = self.parse.communicate()
                if self.parse.returncode:
                    raise RuntimeError(f"dbt parse of {self.project_dir} failed (exit {self.parse.returncode}):\n"
                                       f"{output[-6000:]}")
                self.stamp.write_text(self.digest)
        finally:
            self.lock.close()  # and with it the lock
            self.lock = None
        return self.manifest

    def cancel(self) -> None:
        """Stop a parse that is no longer wanted (the command failed before it needed it)."""
        if self.parse is not None and self.parse.poll() is None:
            self.parse.kill()
            self.parse.wait()
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def start_preparing(project_dir: Path = DBT_PROJECT_DIR) -> Preparation:
    """Start `dbt parse` unless the prepared manifest was parsed from these very files and
    dbt version. The returned preparation holds a lock until ``wait()``:
    `dagster dev` loads the code in several processes at once, one parse at a time."""
    target = manifest_target(project_dir)
    target.mkdir(parents=True, exist_ok=True)
    lock = open(target / ".parse.lock", "w")  # noqa: SIM115 - held until wait()
    fcntl.flock(lock, fcntl.LOCK_EX)
    digest = project_digest(project_dir)
    stamp = target / "parsed-from.sha256"
    manifest = target / "manifest.json"
    if manifest.is_file() and (target / "partial_parse.msgpack").is_file() and stamp.is_file() \
            and stamp.read_text() == digest:
        lock.close()
        return Preparation(manifest, project_dir)
    stamp.unlink(missing_ok=True)
    try:
        parse = start_dbt_parse(project_dir, target)
    except BaseException:
        lock.close()
        raise
    return Preparation(manifest, project_dir, lock=lock, parse=parse, stamp=stamp, digest=digest)


def prepare_dbt_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The manifest, parsed first if it is not up to date. `dagster dev` runs it at import
    (``orchestration/defs/warehouse/assets.py``); the CLI and the tests call it first."""
    return start_preparing(project_dir).wait()
