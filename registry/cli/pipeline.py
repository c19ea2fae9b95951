"""Running the registry's Dagster job from the command line, with the UI's definitions."""
from __future__ import annotations

import _thread
import contextlib
import importlib
import json
import os
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
        # The storage's folder is written out, so that tools reading the instance from
        # its folder (without DAGSTER_HOME set) find the same storage.
        settings = INSTANCE_TEMPLATE.read_text().replace("{env: DAGSTER_HOME}", json.dumps(str(home)))
        (home / "dagster.yaml").write_text(settings)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def check_inputs(config: RegistryConfig) -> dict[str, str]:
    """Site -> country of the site master; exits with a one-line reason when the inputs are missing."""
    from registry.landing import SiteMasterError, read_site_master

    sites, inbox = config.path("sites"), config.path("inbox")
    if not sites.is_file():
        raise SystemExit(f"registry: site master not found: {sites} (REGISTRY_SITES)")
    if not inbox.is_dir():
        raise SystemExit(f"registry: inbox not found: {inbox} (REGISTRY_INBOX)")
    try:
        master = read_site_master(sites)
    except SiteMasterError as exc:
        raise SystemExit(f"registry: {exc}") from None
    if master.empty:
        raise SystemExit(f"registry: the site master {sites} lists no site")
    return dict(zip(master["site_id"], master["country"]))


KEEP_RUN_LOGS = 20


def run_log_file(config: RegistryConfig, run_id: str) -> Path:
    """The run's full log (Dagster events and everything dbt printed), old ones pruned."""
    logs = config.path("state_dir") / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in sorted(logs.glob("run-*.log"))[:-(KEEP_RUN_LOGS - 1)]:
        old.unlink(missing_ok=True)
    return logs / f"run-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{run_id[:8]}.log"


# Modules of the definitions that do not need the dbt manifest, with the libraries they
# bring (pandas, scipy, matplotlib): imported while a dbt parse runs on the other core.
WARM_WHILE_PARSING = ("orchestration.defs.landing.assets", "orchestration.defs.marts.assets",
                      "orchestration.defs.publish.assets")


class Session:
    """The Dagster side of one command: definitions with this configuration, the instance
    (dead runs cleaned up, the warehouse pool free or waited for), country partitions following
    the site master, and runs executed in process with the command's display."""

    def __init__(self, config: RegistryConfig, display=None, command: str = "run"):
        from orchestration.dbt_manifest import start_preparing
        from registry.cli.command_lock import CommandLock
        from registry.cli.progress import RunDisplay

        self.config = config
        self.site_countries = check_inputs(config)
        self.site_ids = list(self.site_countries)
        self.display = display or RunDisplay(tty=False, log_file=run_log_file(config, "cli"))
        self.lock = CommandLock(config.path("warehouse"))
        try:
            self.lock.acquire(command, config.max_wait_seconds, self.say)
        except TimeoutError as exc:
            raise SystemExit(f"registry: {exc}") from None
        manifest = None
        try:
            # The dbt assets are built from the manifest when their module is imported: a
            # parse, if one is needed, runs on the other core while the rest loads.
            manifest = start_preparing()
            self._start(config)
            if manifest.parsing:
                for module in WARM_WHILE_PARSING:
                    importlib.import_module(module)
            manifest.wait()
            from orchestration.definitions import definitions_for

            self.defs = definitions_for(config)
        except BaseException:
            if manifest is not None:
                manifest.cancel()
            self.lock.release()
            raise

    def __enter__(self) -> Session:
        self.display.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.display.__exit__(*exc)
        finally:
            self.lock.release()

    def say(self, line: str) -> None:
        self.display.line(f"registry: {line}")

    def _start(self, config: RegistryConfig) -> None:
        import dagster as dg

        from orchestration.defs.landing.partitions import (
            COUNTRY_PARTITIONS,
            apply_partition_requests,
            country_partition_requests,
        )
        from orchestration.defs.operations.recovery import (
            clean_up_dead_runs,
            wait_for_pool,
        )

        dagster_home(config)
        self.instance = dg.DagsterInstance.get()
        for line in clean_up_dead_runs(self.instance).lines():
            self.say(line)
        try:  # a run of `dagster dev` may hold the warehouse
            wait_for_pool(self.instance, config.max_wait_seconds, self.say)
        except TimeoutError as exc:
            raise SystemExit(f"registry: {exc}") from None
        apply_partition_requests(self.instance, country_partition_requests(
            self.instance.get_dynamic_partitions(COUNTRY_PARTITIONS.name), self.site_countries.values()))
        self.partitions = list(self.instance.get_dynamic_partitions(COUNTRY_PARTITIONS.name))

    def execute(self, job_name: str, **kwargs):
        """One in-process run of a job, its progress on the display, its logs in the run log."""
        from orchestration.defs.operations.cli_logger import LISTENERS
        from orchestration.defs.operations.recovery import owner_tags
        from registry.cli.progress import DbtOutputSink

        run_id = str(uuid.uuid4())
        job = self.defs.resolve_job_def(job_name)
        run_config = {**kwargs.pop("run_config", {}), "loggers": {"registry_cli": {}}}
        tags = {**kwargs.pop("tags", {}), **owner_tags()}
        LISTENERS.append(self.display.on_log)
        try:
            with PoolWatch(self.instance, run_id, self.config.max_wait_seconds, self.display.line), \
                    contextlib.redirect_stdout(DbtOutputSink(self.display)):
                # The display shows progress and each warning once; the whole log goes to its file.
                return job.execute_in_process(run_config=run_config, instance=self.instance, tags=tags,
                                              run_id=run_id, raise_on_error=False, **kwargs)
        finally:
            LISTENERS.remove(self.display.on_log)


def run_pipeline(config: RegistryConfig, display=None, sites: list[str] | None = None):
    """Materialize every asset over every country, in one in-process run; with ``sites``, load
    only those sites: in one run over their country when they share one, else a run per
    country, then one more run that builds and publishes everything downstream.

    Before it starts, runs of dead processes are failed and their pool slots freed; while a
    live run holds the warehouse it waits, saying so, for at most `max_wait_seconds`.
    ``display`` (a ``progress.RunDisplay``) shows progress; by default plain lines."""
    session = Session(config, display)  # first: it starts any dbt parse before the imports below
    from orchestration.defs.landing.assets import SITE_LOAD_KEYS
    from orchestration.defs.landing.partitions import countries_of, country_range_tags

    with session:
        unknown = sorted(set(sites or []) - set(session.site_ids))
        if unknown:
            raise SystemExit(f"registry: not sites of the site master: {', '.join(unknown)}")
        if not sites:
            return session.execute("registry_full_build", tags=country_range_tags(session.partitions))
        countries = countries_of(session.site_countries, sites)
        if len(countries) == 1:  # one run, as the inbox sensor makes it: a range of one partition
            return session.execute("registry_full_build", tags=country_range_tags(countries),
                                   run_config={"ops": {"site_landing": {"config": {"sites": list(sites)}}}})
        site_keys = set(SITE_LOAD_KEYS.values())
        for country in countries:
            chosen = [s for s in sites if session.site_countries[s] == country]
            result = session.execute("registry_full_build", partition_key=country, asset_selection=list(site_keys),
                                     run_config={"ops": {"site_landing": {"config": {"sites": chosen}}}})
            if not result.success:
                return result
        graph = session.defs.resolve_asset_graph()
        everything_else = [key for key in graph.get_all_asset_keys()
                           if key not in site_keys and graph.get(key).is_materializable]
        return session.execute("registry_full_build", asset_selection=everything_else)


def run_as_of(config: RegistryConfig, as_of: str, display=None):
    """The as-of analysis of a date (job ``as_of_analysis``), published under as-of/<date>/."""
    with Session(config, display, command="as-of") as session:
        return session.execute("as_of_analysis",
                               run_config={"ops": {"as_of_publish": {"config": {"as_of": as_of}}}})


def release(config: RegistryConfig, site: str, file: str, released_by: str, display=None):
    """Release a held delivery (job ``release_held_delivery``)."""
    with Session(config, display, command="release") as session:
        return session.execute("release_held_delivery", run_config={"ops": {"release_held": {"config": {
            "site_id": site, "file": file, "released_by": released_by}}}})


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
        from orchestration.resources import WAREHOUSE_POOL

        waiting_since = None
        while not self._stop.wait(self.poll):
            try:
                info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
            except Exception:  # noqa: BLE001 - a watch must never break the run
                continue
            # our steps queue behind each other in the pool too: only another run's claim is a wait
            others = {slot.run_id for slot in info.claimed_slots} - {self.run_id}
            if others and self.run_id in {step.run_id for step in info.pending_steps}:
                if waiting_since is None:
                    waiting_since = time.monotonic()
                    self.say(f"registry: waiting for run {', '.join(sorted(others))}, which holds the "
                             f"warehouse (at most {self.timeout:.0f} s)")
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
