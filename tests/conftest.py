"""Shared fixtures: whole-pipeline runs on generated inboxes, each in its own folder.

Every run gets its own warehouse file, publish folder and Dagster instance, so
tests never share a DuckDB file (one writing process per file).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from registry.config import ENV_VARS, RegistryConfig, set_environment

TEST_PSEUDONYM_KEY = "test-pseudonym-key"


@dataclass(frozen=True)
class PipelineRun:
    root: Path
    config: RegistryConfig
    truth: Path
    result: object  # dagster ExecuteInProcessResult
    extra_env: dict[str, str]

    @property
    def inbox(self) -> Path:
        return self.config.path("inbox")

    @property
    def sites(self) -> Path:
        return self.config.path("sites")

    @property
    def warehouse(self) -> Path:
        return self.config.path("warehouse")

    @property
    def publish_dir(self) -> Path:
        return self.config.path("publish_dir")

    @property
    def marts_duckdb(self) -> Path:
        return self.publish_dir / "marts.duckdb"


def config_for(root: Path, **overrides: object) -> RegistryConfig:
    """The contract's variables, all under ``root`` (sample inbox in ``root/sample``)."""
    env = {
        ENV_VARS["inbox"]: str(root / "sample" / "inbox"),
        ENV_VARS["sites"]: str(root / "sample" / "sites.csv"),
        ENV_VARS["warehouse"]: str(root / "warehouse" / "registry.duckdb"),
        ENV_VARS["publish_dir"]: str(root / "publish"),
        ENV_VARS["pseudonym_key"]: TEST_PSEUDONYM_KEY,
    }
    env.update({ENV_VARS[name]: str(value) for name, value in overrides.items()})
    return RegistryConfig.from_env(env)


_PREPARED: list[Path] = []


def prepare_code_location() -> Path:
    """`dbt parse` of the project, once per session: the dbt assets load from that manifest,
    and every test's warehouse is built with its partial parse."""
    from orchestration.dbt_manifest import prepare_dbt_manifest

    if not _PREPARED:
        _PREPARED.append(prepare_dbt_manifest())
    return _PREPARED[0]


def execute(config: RegistryConfig, dagster_home: Path, extra_env: dict[str, str] | None = None):
    """`registry run`'s pipeline with the contract's variables describing ``config``."""
    from registry.cli.pipeline import run_pipeline

    prepare_code_location()
    with set_environment({**config.environment(), **(extra_env or {}), "DAGSTER_HOME": str(dagster_home)}):
        return run_pipeline(RegistryConfig.from_env(dict(os.environ)))


def run_in(root: Path, extra_env: dict[str, str] | None = None, **sample_options) -> PipelineRun:
    """Generate a sample under `root`, then run the full pipeline on it."""
    from registry.sample import generate

    config = config_for(root)
    generate(root / "sample", **sample_options)
    result = execute(config, root / "dagster_home", extra_env)
    return PipelineRun(root=root, config=config, truth=root / "sample" / "truth", result=result,
                       extra_env=extra_env or {})


def rerun(run: PipelineRun):
    """The same inbox through the pipeline again, into the same warehouse and instance."""
    return execute(run.config, run.root / "dagster_home", run.extra_env)


class _TallyFromWorkers:
    """Under pytest-xdist (`make test-fast`), each worker's tally joins the controller's."""

    def pytest_testnodedown(self, node, error) -> None:
        from tests import tally

        tally.TALLY.update(getattr(node, "workeroutput", {}).get("tally", {}))


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_TallyFromWorkers())


def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally over
        from tests import tally

        workeroutput["tally"] = dict(tally.TALLY)


def pytest_terminal_summary(terminalreporter) -> None:
    """The tally of hostile inputs (tests/tally.py), when a part of the suite added to it."""
    from tests import tally

    if any(tally.TALLY.values()):
        terminalreporter.write_line(f"tally: {tally.line()}")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse` of the project, as the CLI and CI do before the definitions are
    imported; the manifest's path."""
    return prepare_code_location()


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Iterator[PipelineRun]:
    """The shipped sample (the paper's registry) through the whole pipeline."""
    yield run_in(tmp_path_factory.mktemp("default_run"))


@pytest.fixture(scope="session")
def faults_run(tmp_path_factory) -> Iterator[PipelineRun]:
    """A small inbox with every fault option planted, through the whole pipeline."""
    from registry.sample import FAULT_KINDS

    yield run_in(
        tmp_path_factory.mktemp("faults_run"),
        # Planted faults are most of these small sites' rows: let them publish.
        extra_env={"REGISTRY_MAX_REJECTED_SHARE": "1"},
        scale=0.1,
        seed=7,
        faults={kind: 2 for kind in FAULT_KINDS},
    )


@pytest.fixture(scope="session")
def pipeline():
    """The helpers above, for tests that run the pipeline themselves (a conftest is
    not importable by name: several test folders have one)."""
    return SimpleNamespace(run_in=run_in, execute=execute, rerun=rerun, config_for=config_for,
                           environment=set_environment)


@pytest.fixture(scope="session")
def rerun_pipeline():
    """`rerun(run)`: the same inbox through the pipeline again."""
    return rerun


@pytest.fixture(scope="session")
def isolated_config():
    """`config_for(root, **overrides)`: the contract's variables, all under `root`."""
    return config_for
