from __future__ import annotations

import duckdb
import pytest

from registry.marts import build_marts
from registry.publish import follow_up_from_warehouse
from tests.marts.star_fixture import build_star


@pytest.fixture(scope="module")
def star_path(tmp_path_factory):
    return build_star(tmp_path_factory.mktemp("star") / "star.duckdb")


@pytest.fixture(scope="module")
def fixture_marts(star_path):
    con = duckdb.connect(str(star_path), read_only=True)
    try:
        return build_marts(con, small_cell_max=4)
    finally:
        con.close()


@pytest.fixture(scope="module")
def fixture_follow_up(star_path):
    con = duckdb.connect(str(star_path), read_only=True)
    try:
        return follow_up_from_warehouse(con)
    finally:
        con.close()


@pytest.fixture
def provenance(fixture_marts):
    quality = fixture_marts["site_data_quality"]
    return {"data_cut": "2017-07-31", "load_id": "load-1", "generated_at": "2017-08-02T10:00:00",
            "git_revision": "abc123",
            "deliveries": quality[["site_id", "file_name", "data_cut", "status"]].to_dict("records")}
