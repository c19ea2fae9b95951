from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from registry import warehouse as warehouse_db
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
def settings(inbox: Path, sites_csv: Path, warehouse: Path) -> SimpleNamespace:
    """What the landing functions are given: the inbox, the site master, the key."""
    return SimpleNamespace(inbox=inbox, sites=sites_csv, warehouse=warehouse, pseudonym_key=TEST_KEY)


def pytest_terminal_summary(terminalreporter, config):
    """The hostile corpus's tally (tests/landing/test_hostile_corpus.py), when it ran."""
    from tests.landing.test_hostile_corpus import HOSTILE_LINE

    line = config.stash.get(HOSTILE_LINE, None)
    if line:
        terminalreporter.write_line(f"hostile files: {line}")
