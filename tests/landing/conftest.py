from __future__ import annotations

from pathlib import Path

import pytest

from registry import warehouse as warehouse_db
from registry.config import Settings
from tests.landing.workbooks import SITES_CSV, TEST_KEY


@pytest.fixture
def sites_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(SITES_CSV, encoding="utf-8")
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse: Path):
    connection = warehouse_db.connect(warehouse)
    yield connection
    connection.close()


@pytest.fixture
def settings(tmp_path: Path, inbox: Path, sites_csv: Path, warehouse: Path) -> Settings:
    return Settings(
        inbox=inbox, sites=sites_csv, warehouse=warehouse, publish_dir=tmp_path / "publish",
        pseudonym_key=TEST_KEY, uses_development_key=False,
    )
