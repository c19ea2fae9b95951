from __future__ import annotations

import duckdb
import pytest

from registry.marts import build_marts
from tests.marts.star_fixture import build_star


@pytest.fixture(scope="module")
def fixture_marts(tmp_path_factory):
    path = build_star(tmp_path_factory.mktemp("star") / "star.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return build_marts(con, small_cell_max=4)
    finally:
        con.close()


@pytest.fixture
def provenance(fixture_marts):
    quality = fixture_marts["site_data_quality"]
    return {"data_cut": "2017-07-31", "load_id": "load-1", "generated_at": "2017-08-02T10:00:00",
            "git_revision": "abc123",
            "deliveries": quality[["site_id", "file_name", "data_cut", "status"]].to_dict("records")}
