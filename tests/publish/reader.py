"""A second process that reads marts.duckdb while publishes run.

Usage: python reader.py MODE PUBLISH_DIR STOP_FILE READY_FILE, MODE ``hold``
(one read-only connection kept open for the whole run: it must keep seeing
the publish it opened) or ``reopen`` (a fresh read-only connection every
loop; DuckDB shares one database instance per file within a process, hence
two processes for the two modes). Every read checks that the file is one
complete publish: each table's row count equals ``publish_marts`` and its
rows carry the ``publish_info`` id. Prints the number of reads and the
publish ids seen as JSON; any failure exits non-zero.
"""
import json
import sys
import time
from pathlib import Path

import duckdb


def check(con) -> str:
    (publish_id,) = con.execute("select publish_id from publish_info").fetchone()
    for mart, n_rows in con.execute("select mart, n_rows from publish_marts").fetchall():
        actual = con.execute(f'select count(*) from main."{mart}"').fetchone()[0]
        if actual != n_rows:
            raise AssertionError(f"{mart}: {actual} rows, publish {publish_id} says {n_rows}")
        marker = con.execute(f'select distinct publish_id from main."{mart}"').fetchall()
        if marker != [(publish_id,)]:
            raise AssertionError(f"{mart} holds rows of {marker}, file is {publish_id}")
    return publish_id


def main(mode: str, publish_dir: str, stop_file: str, ready_file: str) -> int:
    path = str(Path(publish_dir) / "marts.duckdb")
    held = duckdb.connect(path, read_only=True) if mode == "hold" else None
    seen, reads = [], 0
    Path(ready_file).write_text("ready")
    while not Path(stop_file).exists():
        con = held or duckdb.connect(path, read_only=True)
        try:
            publish_id = check(con)
        finally:
            if held is None:
                con.close()
        if publish_id not in seen:
            seen.append(publish_id)
        reads += 1
        time.sleep(0.001)
    if held is not None:
        held.close()
    print(json.dumps({"reads": reads, "seen": seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
