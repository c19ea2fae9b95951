from __future__ import annotations

import pytest

from registry import warehouse as warehouse_db
from registry.marts import build_marts

from .star_fixture import build_star


@pytest.fixture
def star_db(tmp_path):
    return build_star(tmp_path / "star.duckdb")


@pytest.fixture
def star_con(star_db):
    con = warehouse_db.connect(star_db, read_only=True)
    yield con
    con.close()


@pytest.fixture
def marts(star_con):
    return build_marts(star_con, small_cell_max=4)
