"""A reader in another process never fails and never sees a mix of publishes."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import registry.publish.atomic as atomic
from registry.publish import publish

READER = Path(__file__).with_name("reader.py")


def marts_of_size(n: int) -> dict[str, pd.DataFrame]:
    # Row counts differ from one publish to the next, so a mix would show.
    return {f"mart_{k}": pd.DataFrame({"value": range(n + k)}) for k in range(4)}


def test_reader_sees_whole_publishes_only(tmp_path, monkeypatch):
    real_writer = atomic.write_marts_duckdb

    def tagged_writer(marts, path, info):
        # Tag every row with its publish id so the reader can check each table
        # against the file's publish_info.
        tagged = {k: df.assign(publish_id=info["publish_id"]) for k, df in marts.items()}
        return real_writer(tagged, path, info)

    monkeypatch.setattr(atomic, "write_marts_duckdb", tagged_writer)
    # The report needs the real marts; this test is about swapping the files.
    monkeypatch.setattr(atomic, "build_report", lambda *args, **kwargs: "<html></html>")
    provenance = {"data_cut": "2017-07-31", "load_id": "L", "deliveries": []}
    first = publish(marts_of_size(5), tmp_path, provenance, small_cell_max=4).publish_id

    stop = tmp_path / "stop"
    readers = {}
    for mode in ("hold", "reopen"):
        ready = tmp_path / f"ready-{mode}"
        readers[mode] = (ready, subprocess.Popen(
            [sys.executable, str(READER), mode, str(tmp_path), str(stop), str(ready)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for ready, process in readers.values():
            while not ready.exists():
                assert process.poll() is None, process.stderr.read()
                time.sleep(0.01)
        ids = []
        for i in range(1, 9):
            ids.append(publish(marts_of_size(5 + 3 * i), tmp_path, provenance, small_cell_max=4).publish_id)
            time.sleep(0.05)  # let the readers run between publishes
    finally:
        stop.write_text("stop")
        results = {mode: (p, *p.communicate(timeout=120)) for mode, (_, p) in readers.items()}
    for mode, (process, out, err) in results.items():
        assert process.returncode == 0, (mode, err)
    held = json.loads(results["hold"][1])
    reopened = json.loads(results["reopen"][1])
    # The held connection keeps the publish it opened, whatever was published since.
    assert held["reads"] > 0 and held["seen"] == [first]
    # Fresh connections see only whole publishes, in publish order.
    assert reopened["reads"] > 0 and set(reopened["seen"]) <= {first, *ids}
    order = [first, *ids]
    assert [order.index(i) for i in reopened["seen"]] == sorted(order.index(i) for i in reopened["seen"])
    assert len(reopened["seen"]) > 1
