"""The registry's configuration: one resource, read from the environment.

``RegistryConfig`` is the only place where a setting has a name, a default and
a meaning. Dagster gets it as the resource ``registry`` (the UI shows its
values; the pseudonym key is a ``dg.EnvVar``, so the UI shows the variable's
name, never the key); the ``registry`` command builds the same object with
``RegistryConfig.from_env()``. Library functions never read it: they take
plain arguments.

Paths default to the shipped sample under ``data/`` of the checkout; the
archive and the state folder default to folders beside the warehouse file, so
setting the contract's variables (section 6) is enough on a server.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from registry.warehouse import WAREHOUSE_VAR

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"

PSEUDONYM_KEY_VAR = "REGISTRY_PSEUDONYM_KEY"
# Used when REGISTRY_PSEUDONYM_KEY is not set; its name says it is not a secret.
DEVELOPMENT_PSEUDONYM_KEY = "registry-development-key-NOT-SECRET"

# field -> environment variable. Paths not set fall back to DEFAULT_PATHS, or to a
# folder named after the field beside the warehouse file (archive, state).
ENV_VARS: dict[str, str] = {
    "inbox": "REGISTRY_INBOX",
    "sites": "REGISTRY_SITES",
    "mappings": "REGISTRY_MAPPINGS",
    "warehouse": WAREHOUSE_VAR,
    "archive": "REGISTRY_ARCHIVE",
    "publish_dir": "REGISTRY_PUBLISH_DIR",
    "state_dir": "REGISTRY_STATE_DIR",
    "pseudonym_key": PSEUDONYM_KEY_VAR,
    "small_cell_max": "REGISTRY_SMALL_CELL_MAX",
    "max_rejected_share": "REGISTRY_MAX_REJECTED_SHARE",
    "max_file_mb": "REGISTRY_MAX_FILE_MB",
    "max_sheet_mb": "REGISTRY_MAX_SHEET_MB",
    "max_rows_per_sheet": "REGISTRY_MAX_ROWS_PER_SHEET",
    "min_field_share": "REGISTRY_MIN_FIELD_SHARE",
    "max_wait_seconds": "REGISTRY_MAX_WAIT_SECONDS",
    "read_workers": "REGISTRY_READ_WORKERS",
}

DEFAULT_PATHS: dict[str, Path] = {
    "inbox": SAMPLE_DIR / "inbox",
    "sites": SAMPLE_DIR / "sites.csv",
    "warehouse": PROJECT_ROOT / "data" / "warehouse" / "registry.duckdb",
    "publish_dir": PROJECT_ROOT / "data" / "publish",
}
PATH_FIELDS = ("inbox", "sites", "mappings", "warehouse", "archive", "publish_dir", "state_dir")


class RegistryConfig(dg.ConfigurableResource):
    """Where the registry reads and writes, its secret and its limits (README, "Configuration")."""

    inbox: str = Field(description="The inbox: <inbox>/<SITE_ID>/<name>.xlsx (REGISTRY_INBOX).")
    sites: str = Field(description="The site master CSV (REGISTRY_SITES).")
    mappings: str = Field(
        description="Folder of mapping overrides, headers and terms (REGISTRY_MAPPINGS; "
        "default: `mappings/` beside the site master)."
    )
    warehouse: str = Field(description="The warehouse DuckDB file (REGISTRY_WAREHOUSE).")
    archive: str = Field(
        description="Every delivery's bytes by SHA-256, outside the inbox (REGISTRY_ARCHIVE; "
        "default: `archive/` beside the warehouse)."
    )
    publish_dir: str = Field(description="Where marts, workbook and report are published (REGISTRY_PUBLISH_DIR).")
    state_dir: str = Field(
        description="Files runs write that are neither data nor publish: dbt's target and logs, "
        "the Dagster instance of the CLI, failure log (REGISTRY_STATE_DIR; default: `state/` "
        "beside the warehouse)."
    )
    pseudonym_key: str = Field(
        description="Secret key of the patient pseudonyms (HMAC-SHA-256), given as the "
        "environment variable REGISTRY_PSEUDONYM_KEY."
    )
    small_cell_max: int = Field(
        default=4, ge=0,
        description="Largest count suppressed in published region and site rows; 0 turns "
        "suppression off (REGISTRY_SMALL_CELL_MAX).",
    )
    max_rejected_share: float = Field(
        default=0.2, ge=0, le=1,
        description="Largest share of rejected rows in a site's current delivery before the "
        "publish is blocked (REGISTRY_MAX_REJECTED_SHARE).",
    )
    max_file_mb: float = Field(
        default=50.0, gt=0,
        description="Largest workbook accepted, compressed, in MB (REGISTRY_MAX_FILE_MB).",
    )
    max_sheet_mb: float = Field(
        default=200.0, gt=0,
        description="Largest sheet accepted once expanded, in MB, checked before it is read "
        "(REGISTRY_MAX_SHEET_MB).",
    )
    max_rows_per_sheet: int = Field(
        default=1_000_000, gt=0,
        description="Most rows a sheet may hold (REGISTRY_MAX_ROWS_PER_SHEET).",
    )
    min_field_share: float = Field(
        default=0.0, ge=0, le=1,
        description="A field the analysis needs counts as delivered when a column is recognised "
        "as it and at least this share of a current delivery's rows fill it; 0 asks for the "
        "column only (REGISTRY_MIN_FIELD_SHARE).",
    )

    max_wait_seconds: float = Field(
        default=900.0, gt=0,
        description="Longest a run waits for another run that holds the warehouse, announced while "
        "it waits (REGISTRY_MAX_WAIT_SECONDS).",
    )

    read_workers: int = Field(
        default=0, ge=0,
        description="Processes that read workbooks in parallel while one writes the warehouse, "
        "and that write a publish's site feedback workbooks when a thousand or more are new; "
        "0: one per core (REGISTRY_READ_WORKERS).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RegistryConfig:
        """The configuration the environment describes (``os.environ`` by default).

        With ``os.environ`` the pseudonym key is a ``dg.EnvVar`` (resolved by Dagster,
        shown by name); with an explicit mapping (tests) it is the mapping's value.
        """
        env = os.environ if environ is None else environ

        def path(name: str, default: Path) -> str:
            value = env.get(ENV_VARS[name], "").strip()
            return str(Path(value).expanduser().resolve() if value else default)

        values: dict[str, object] = {name: path(name, default) for name, default in DEFAULT_PATHS.items()}
        values["mappings"] = path("mappings", Path(values["sites"]).parent / "mappings")
        beside = Path(values["warehouse"]).parent
        values["archive"] = path("archive", beside / "archive")
        values["state_dir"] = path("state_dir", beside / "state")
        for name in ("small_cell_max", "max_rejected_share", "max_file_mb", "max_sheet_mb",
                     "max_rows_per_sheet", "min_field_share", "max_wait_seconds", "read_workers"):
            raw = env.get(ENV_VARS[name], "").strip()
            if raw:
                values[name] = raw  # pydantic checks the type and the bounds
        if not env.get(PSEUDONYM_KEY_VAR):
            values["pseudonym_key"] = DEVELOPMENT_PSEUDONYM_KEY
        elif environ is None:
            values["pseudonym_key"] = dg.EnvVar(PSEUDONYM_KEY_VAR)
        else:
            values["pseudonym_key"] = env[PSEUDONYM_KEY_VAR]
        return cls(**values)

    def secret_key(self) -> str:
        """The pseudonym key's value, inside or outside a Dagster run."""
        key = self.pseudonym_key
        return key.get_value() or "" if isinstance(key, dg.EnvVar) else key

    @property
    def uses_development_key(self) -> bool:
        return self.secret_key() == DEVELOPMENT_PSEUDONYM_KEY

    def path(self, name: str) -> Path:
        """One of PATH_FIELDS as a Path."""
        if name not in PATH_FIELDS:
            raise KeyError(f"{name!r} is not a path setting ({', '.join(PATH_FIELDS)})")
        return Path(getattr(self, name))

    @property
    def workers(self) -> int | None:
        """``read_workers`` as the landing and the publish take it (None: one per core)."""
        return self.read_workers or None

    @property
    def dbt_state_dir(self) -> Path:
        return self.path("state_dir") / "dbt"

    @property
    def dagster_home(self) -> Path:
        """The CLI's Dagster instance, unless DAGSTER_HOME says otherwise."""
        return self.path("state_dir") / "dagster"

    @property
    def failures_log(self) -> Path:
        return self.path("state_dir") / "failures.log"

    def environment(self) -> dict[str, str]:
        """The environment variables that describe this configuration (for subprocesses)."""
        out = {ENV_VARS[name]: str(getattr(self, name)) for name in ENV_VARS if name != "pseudonym_key"}
        out[PSEUDONYM_KEY_VAR] = self.secret_key()
        return out


@contextmanager
def set_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then put back what was there."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
