import hashlib
import hmac

import duckdb
import pytest

from registry.landing.pseudonym import (
    KEY_HEX_DIGITS,
    patient_key_params,
    patient_key_sql,
)


@pytest.mark.parametrize("key", ["k", "registry-development-key-NOT-SECRET", "ü" * 70, "x" * 64])
def test_sql_hmac_matches_python_hmac(key):
    refs = ["P-001", "p-001", "ÉS 12", None, "A" * 200]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (site VARCHAR, ref VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [["ES-001", r] for r in refs])
    got = con.execute(
        f"SELECT ref, {patient_key_sql('site', 'ref')} FROM t", patient_key_params(key)
    ).fetchall()
    for ref, pseudonym in got:
        if ref is None:
            assert pseudonym is None
            continue
        expected = hmac.new(key.encode(), f"ES-001|{ref.upper()}".encode(), hashlib.sha256).hexdigest()
        assert pseudonym == expected[:KEY_HEX_DIGITS]
    # case of the reference does not matter, the key does
    keys = dict(got)
    assert keys["P-001"] == keys["p-001"]
