"""The Dagster UI as a person would use it: `dagster dev`, GraphQL, headless Chromium.

Marked `ui`: skipped where Debian's Chromium is absent (`.ci/run` installs it).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from registry import warehouse as warehouse_db
from registry.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_signals() -> None:
    # A backgrounded `dagster dev` inherits ignored SIGINT/SIGTERM; restore them
    # so that stopping it by its process id also stops its children.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload.get("errors")
    return payload["data"]


@pytest.fixture(scope="module")
def ui_run(tmp_path_factory, pipeline):
    """A registry of its own (the UI test drops new deliveries into its inbox)."""
    run = pipeline.run_in(tmp_path_factory.mktemp("ui_run"), scale=0.05, seed=3)
    assert run.result.success
    return run


@pytest.fixture(scope="module")
def dagster_ui(ui_run, tmp_path_factory):
    """`dagster dev` on a free loopback port, over the instance `registry run` used."""
    default_run = ui_run
    port = free_port()
    log = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(default_run.root / "dagster_home"),
        "REGISTRY_INBOX": str(default_run.inbox),
        "REGISTRY_SITES": str(default_run.sites),
        "REGISTRY_WAREHOUSE": str(default_run.warehouse),
        "REGISTRY_PUBLISH_DIR": str(default_run.publish_dir),
        "REGISTRY_PSEUDONYM_KEY": default_run.config.secret_key(),
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=reset_signals, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                data = graphql(port, "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name } } } }")
                if data["repositoriesOrError"].get("nodes"):
                    break
            except (OSError, AssertionError, KeyError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not answer in time\n" + log.read_text()[-3000:]
            time.sleep(2)
        # The community sign-up dialog of a first visit would cover the screenshot.
        graphql(port, "mutation { setNuxSeen }")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_every_asset_and_check_is_served(dagster_ui):
    data = graphql(
        dagster_ui,
        """{ assetNodes { assetKey { path } groupName
             assetChecksOrError { ... on AssetChecks { checks { name } } } } }""",
    )
    nodes = data["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    for expected in ["landing/patients", "warehouse/dim_patient", "marts/pain_outcomes",
                     "publish/published_marts"]:
        assert expected in keys
    checks = {c["name"] for node in nodes for c in node["assetChecksOrError"].get("checks", [])}
    assert {"has_patients", "total_matches_star", "required_columns_found"} <= checks


def test_the_sample_materialization_succeeded(dagster_ui):
    data = graphql(
        dagster_ui,
        """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) {
             ... on Asset { assetMaterializations(limit: 1) { runId } } } }""",
        {"path": ["publish", "published_marts"]},
    )
    materializations = data["assetOrError"]["assetMaterializations"]
    assert materializations, "no materialization of the publish in the instance"
    run = graphql(
        dagster_ui,
        """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }""",
        {"id": materializations[0]["runId"]},
    )
    assert run["runOrError"]["status"] == "SUCCESS"


def test_asset_graph_page_renders(dagster_ui, tmp_path):
    url = f"http://127.0.0.1:{dagster_ui}/locations/registry/asset-groups/marts/lineage"
    screenshot = Path(os.environ.get("REGISTRY_UI_SCREENSHOT_DIR", tmp_path)) / "asset_graph_marts.png"
    common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
              "--window-size=1600,1000", "--virtual-time-budget=20000"]
    subprocess.run([*common, f"--screenshot={screenshot}", url], check=True, timeout=120,
                   capture_output=True)
    assert screenshot.stat().st_size > 10_000
    dom = subprocess.run([*common, "--dump-dom", url], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    for name in ["pain_outcomes", "published_marts", "dim_patient", "fct_assessment"]:
        assert name in dom, f"{name} not rendered on the asset graph page"


def test_each_country_partition_lists_its_sites_in_the_ui(dagster_ui, ui_run, tmp_path):
    """The UI serves each country's landing partition with a table of that country's sites,
    and the asset's partition page renders."""
    import pandas as pd

    data = graphql(
        dagster_ui,
        """query($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
             assetMaterializations(limit: 100) { partition
               metadataEntries { label ... on TableMetadataEntry { table { records } } } } } } }""",
        {"path": ["landing", "deliveries"]},
    )
    sites = pd.read_csv(ui_run.sites, dtype=str)
    seen = {}
    for materialization in data["assetOrError"]["assetMaterializations"]:
        tables = [e for e in materialization["metadataEntries"] if e["label"] == "by_site"]
        assert tables, materialization
        seen.setdefault(materialization["partition"],
                        {json.loads(r)["site_id"] for r in tables[0]["table"]["records"]})
    assert set(seen) == set(sites["country"])
    for country, listed in seen.items():
        assert listed == set(sites.loc[sites["country"] == country, "site_id"]), country
    country = sorted(seen)[0]
    url = f"http://127.0.0.1:{dagster_ui}/assets/landing/deliveries?view=partitions&partition={country}"
    screenshot = Path(os.environ.get("REGISTRY_UI_SCREENSHOT_DIR", tmp_path)) / "landing_partition.png"
    common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
              "--window-size=1600,1200", "--virtual-time-budget=20000"]
    subprocess.run([*common, f"--screenshot={screenshot}", url], check=True, timeout=120, capture_output=True)
    assert screenshot.stat().st_size > 10_000
    dom = subprocess.run([*common, "--dump-dom", url], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert "deliveries" in dom and country in dom


def publish_state(publish_dir: Path) -> str:
    manifest = publish_dir / "manifest.json"
    return json.loads(manifest.read_text())["publish_id"] if manifest.exists() else ""


def wait_until_idle(port: int, quiet: float = 20, timeout: float = 420) -> None:
    """Until no run has been queued or in progress for ``quiet`` seconds (the automation
    sensor ticks every 15 s)."""
    query = """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) {
        ... on Runs { results { runId } } } }"""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet:
        assert time.monotonic() < deadline, "dagster dev did not settle"
        if graphql(port, query)["runsOrError"]["results"]:
            quiet_since = time.monotonic()
        time.sleep(1)


def test_a_new_cut_flows_to_the_published_marts_without_a_click(dagster_ui, ui_run):
    """Inbox sensor -> one run: the site's load, dbt, the marts and the publish; automation
    then finds nothing left to build."""
    import duckdb
    import openpyxl

    wait_until_idle(dagster_ui)  # the sensors' first ticks have settled on the inbox as it is
    before = publish_state(ui_run.publish_dir)
    with warehouse_db.connect(ui_run.warehouse, read_only=True) as con:
        site, file_path = con.execute(
            "select site_id, file_path from landing.deliveries where status = 'current' "
            "order by site_id limit 1"
        ).fetchone()
    # Saved again by openpyxl: the same records in new bytes, as a site's next cut.
    workbook = openpyxl.load_workbook(ui_run.inbox / file_path)
    new_cut = ui_run.inbox / site / f"{site} next cut 2017-08-31.xlsx"
    staged = ui_run.root / new_cut.name  # outside the inbox, then moved in whole: one tick sees it
    workbook.save(staged)
    dropped = time.time()
    os.replace(staged, new_cut)

    deadline = time.monotonic() + 420
    while publish_state(ui_run.publish_dir) == before:
        assert time.monotonic() < deadline, "the new cut did not reach the published marts"
        time.sleep(5)
    # One run loaded the cut and published it, and automation found nothing left to do
    # (its sensor ticks every 15 s).
    time.sleep(35)
    runs = graphql(dagster_ui, """query Runs($after: Float) { runsOrError(filter: {createdAfter: $after}) {
        ... on Runs { results { runId status creationTime assetSelection { path } tags { key value } } } } }""",
                   {"after": dropped})["runsOrError"]["results"]
    assert len(runs) == 1, [(r["runId"][:8], r["status"], round(r["creationTime"] - dropped, 1),
                             len(r["assetSelection"] or []),
                             {t["key"]: t["value"] for t in r["tags"] if "sensor" in t["key"] or "partition" in t["key"]})
                            for r in runs]
    assert runs[0]["status"] == "SUCCESS" and {"path": ["publish", "published_marts"]} in runs[0]["assetSelection"]
    # The publish may still be swapping files in: read the marts once it settled.
    time.sleep(2)
    with duckdb.connect(str(ui_run.publish_dir / "marts.duckdb"), read_only=True) as con:
        status = con.execute(
            "select status from site_data_quality where site_id = ? and file_name = ?",
            [site, new_cut.name],
        ).fetchone()
    assert status == ("current",)
