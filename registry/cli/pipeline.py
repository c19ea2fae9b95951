"""Running the registry's Dagster job from the command line, with the UI's definitions."""
from __future__ import annotations

import _thread
import contextlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from registry.config import PROJECT_ROOT, RegistryConfig

INSTANCE_TEMPLATE = PROJECT_ROOT / "orchestration" / "dagster.yaml"


def dagster_home(config: RegistryConfig) -> Path:
    """DAGSTER_HOME, by default the state folder's `dagster/`, with the project's instance
    settings (the warehouse pool of size 1), so that `dagster dev` later shows the same runs."""
    home = Path(os.environ.get("DAGSTER_HOME") or config.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def check_inputs(config: RegistryConfig) -> list[str]:
    """The site master's site ids; exits with a one-line reason when the inputs are missing."""
    from registry.landing import SiteMasterError, read_site_master

    sites, inbox = config.path("sites"), config.path("inbox")
    if not sites.is_file():
        raise SystemExit(f"registry: site master not found: {sites} (REGISTRY_SITES)")
    if not inbox.is_dir():
        raise SystemExit(f"registry: inbox not found: {inbox} (REGISTRY_INBOX)")
    try:
        site_ids = list(read_site_master(sites)["site_id"])
    except SiteMasterError as exc:
        raise SystemExit(f"registry: {exc}") from None
    if not site_ids:
        raise SystemExit(f"registry: the site master {sites} lists no site")
    return site_ids


KEEP_RUN_LOGS = 20


def run_log_file(config: RegistryConfig, run_id: str) -> Path:
    """The run's full log (Dagster events and everything dbt printed), old ones pruned."""
    logs = config.path("state_dir") / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in sorted(logs.glob("run-*.log"))[:-(KEEP_RUN_LOGS - 1)]:
        old.unlink(missing_ok=True)
    return logs / f"run-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{run_id[:8]}.log"


def run_pipeline(config: RegistryConfig, display=None):
    """Materialize every asset over every site, in one in-process run.

    Before it starts, runs of dead processes are failed and their pool slots freed; while a
    live run holds the warehouse it waits, saying so, for at most `max_wait_seconds`.
    ``display`` (a ``progress.RunDisplay``) shows progress; by default plain lines on stdout."""
    import dagster as dg

    from orchestration.defs.operations.cli_logger import LISTENERS
    from orchestration.defs.operations.recovery import (
        clean_up_dead_runs,
        owner_tags,
        wait_for_pool,
    )
    from orchestration.resources import prepare_dbt_manifest
    from registry.cli.progress import DbtOutputSink, RunDisplay

    site_ids = check_inputs(config)
    # The dbt assets are built from the manifest when their module is imported.
    prepare_dbt_manifest(config)
    from orchestration.definitions import definitions_for
    from orchestration.defs.landing.partitions import (
        SITE_PARTITIONS,
        all_sites_tags,
        apply_partition_requests,
        site_partition_requests,
    )

    run_id = str(uuid.uuid4())
    display = display or RunDisplay(tty=False, log_file=run_log_file(config, run_id))
    say = display.line
    dagster_home(config)
    instance = dg.DagsterInstance.get()
    for line in clean_up_dead_runs(instance).lines():
        say(f"registry: {line}")
    try:
        wait_for_pool(instance, config.max_wait_seconds, lambda line: say(f"registry: {line}"))
    except TimeoutError as exc:
        raise SystemExit(f"registry: {exc}") from None
    apply_partition_requests(
        instance, site_partition_requests(instance.get_dynamic_partitions(SITE_PARTITIONS.name), site_ids))
    partitions = instance.get_dynamic_partitions(SITE_PARTITIONS.name)
    job = definitions_for(config).resolve_job_def("registry_full_build")
    LISTENERS.append(display.on_log)
    try:
        with display, PoolWatch(instance, run_id, config.max_wait_seconds, say), \
                contextlib.redirect_stdout(DbtOutputSink(display)):
            return job.execute_in_process(
                # The display shows progress and each warning once; the whole log goes to its file.
                run_config={"loggers": {"registry_cli": {}}},
                instance=instance,
                tags={**all_sites_tags(list(partitions)), **owner_tags()},
                run_id=run_id,
                raise_on_error=False,
            )
    finally:
        LISTENERS.remove(display.on_log)


class PoolWatch:
    """While the run executes, watches whether one of its steps waits for the warehouse pool:
    says who holds it, and stops the run (as Ctrl-C would) once it has waited too long."""

    def __init__(self, instance, run_id: str, timeout: float, say: Callable[[str], None], poll: float = 5.0):
        self.instance, self.run_id, self.timeout, self.say, self.poll = instance, run_id, timeout, say, poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pool-watch", daemon=True)
        self.timed_out = False

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll * 2)
        if self.timed_out:
            raise SystemExit(f"registry: stopped after waiting {self.timeout:.0f} s for the warehouse; "
                             "the run holding it is still running")

    def _watch(self) -> None:
        from orchestration.defs.operations.recovery import pool_holders
        from orchestration.resources import WAREHOUSE_POOL

        waiting_since = None
        while not self._stop.wait(self.poll):
            try:
                info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
            except Exception:  # noqa: BLE001 - a watch must never break the run
                continue
            if self.run_id in {step.run_id for step in info.pending_steps}:
                if waiting_since is None:
                    waiting_since = time.monotonic()
                    holders = ", ".join(pool_holders(self.instance, exclude=self.run_id)) or "another run"
                    self.say(f"registry: waiting for {holders}, which holds the warehouse "
                             f"(at most {self.timeout:.0f} s)")
                elif time.monotonic() - waiting_since > self.timeout:
                    self.timed_out = True
                    _thread.interrupt_main()
                    return
            else:
                waiting_since = None


def first_failure(result) -> str:
    """One line: the failed step and the innermost error's message."""
    for event in result.all_events:
        if event.is_step_failure and event.event_specific_data.error:
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            message = " ".join(line.strip() for line in error.message.strip().splitlines()[:4])
            return f"step {event.step_key} failed: {message or 'no message'}"
    return "the run failed (see the Dagster run log)"
