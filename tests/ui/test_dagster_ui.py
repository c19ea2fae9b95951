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
def dagster_ui(default_run, tmp_path_factory):
    """`dagster dev` on a free loopback port, over the instance of the default run."""
    port = free_port()
    log = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(default_run.root / "dagster_home"),
        "REGISTRY_INBOX": str(default_run.settings.inbox),
        "REGISTRY_SITES": str(default_run.settings.sites),
        "REGISTRY_WAREHOUSE": str(default_run.settings.warehouse),
        "REGISTRY_PUBLISH_DIR": str(default_run.settings.publish_dir),
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
    url = f"http://127.0.0.1:{dagster_ui}/asset-groups"
    screenshot = tmp_path / "asset_graph.png"
    common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
              "--window-size=1600,1000", "--virtual-time-budget=20000"]
    subprocess.run([*common, f"--screenshot={screenshot}", url], check=True, timeout=120,
                   capture_output=True)
    assert screenshot.stat().st_size > 10_000
    dom = subprocess.run([*common, "--dump-dom", url], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    for name in ["cohort_overview", "published_marts", "dim_patient"]:
        assert name in dom, f"{name} not rendered on the asset graph page"
