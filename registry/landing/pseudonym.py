"""Patient pseudonyms: HMAC-SHA-256 computed inside DuckDB, vectorised.

patient_key = first 24 hex digits of HMAC-SHA-256(key, site_id || '|' || upper(patient_ref)).
HMAC is H((K ^ opad) || H((K ^ ipad) || message)); the two padded keys are
computed once in Python and bound as BLOB parameters, so the whole column is
hashed by DuckDB without a Python loop and the raw reference never leaves memory.
"""
from __future__ import annotations

import hashlib

_BLOCK = 64  # SHA-256 block size in bytes
KEY_HEX_DIGITS = 24


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """The (inner, outer) padded keys of HMAC-SHA-256 for ``key``."""
    raw = key.encode("utf-8")
    if len(raw) > _BLOCK:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def patient_key_sql(site_expr: str, ref_expr: str) -> str:
    """SQL expression of the pseudonym; binds the named BLOB parameters of patient_key_params."""
    message = f"encode({site_expr} || '|' || upper({ref_expr}))"
    inner = f"unhex(sha256($hmac_inner::BLOB || {message}))"
    return (
        f"CASE WHEN {ref_expr} IS NULL THEN NULL "
        f"ELSE substr(sha256($hmac_outer::BLOB || {inner}), 1, {KEY_HEX_DIGITS}) END"
    )


def patient_key_params(key: str) -> dict[str, bytes]:
    """Named parameters of patient_key_sql."""
    inner, outer = hmac_pads(key)
    return {"hmac_inner": inner, "hmac_outer": outer}
