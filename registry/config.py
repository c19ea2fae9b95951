"""Configuration of a registry run, read from the environment (contract section 6).

Every variable has a default under ``data/`` of the project checkout, which is
where ``registry sample`` writes the shipped sample inbox.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Used when REGISTRY_PSEUDONYM_KEY is not set; its name says it is not a secret.
DEVELOPMENT_PSEUDONYM_KEY = "registry-development-key-NOT-SECRET"

ENV_VARS = {
    "inbox": "REGISTRY_INBOX",
    "sites": "REGISTRY_SITES",
    "warehouse": "REGISTRY_WAREHOUSE",
    "publish_dir": "REGISTRY_PUBLISH_DIR",
    "pseudonym_key": "REGISTRY_PSEUDONYM_KEY",
}

DEFAULTS = {
    "inbox": DATA_DIR / "sample" / "inbox",
    "sites": DATA_DIR / "sample" / "sites.csv",
    "warehouse": DATA_DIR / "warehouse" / "registry.duckdb",
    "publish_dir": DATA_DIR / "publish",
}


@dataclass(frozen=True)
class Settings:
    inbox: Path
    sites: Path
    warehouse: Path
    publish_dir: Path
    pseudonym_key: str
    uses_development_key: bool

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def path(name: str) -> Path:
            value = env.get(ENV_VARS[name])
            return Path(value).expanduser().resolve() if value else DEFAULTS[name]

        key = env.get(ENV_VARS["pseudonym_key"]) or ""
        return cls(
            inbox=path("inbox"),
            sites=path("sites"),
            warehouse=path("warehouse"),
            publish_dir=path("publish_dir"),
            pseudonym_key=key or DEVELOPMENT_PSEUDONYM_KEY,
            uses_development_key=not key,
        )
