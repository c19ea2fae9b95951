"""Runs that died without saying so, and the warehouse pool slot they hold.

A `registry run` killed with SIGKILL (out of memory, a reboot) leaves its run STARTED
and its claim on the only slot of the `registry_warehouse` pool: every later run would
wait for it forever. Runs started by the command line carry their process id, host
and process start time as tags; a run whose process is gone is marked failed and its
slots are freed. Waiting for a slot held by a live run is announced and bounded.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from orchestration.resources import WAREHOUSE_POOL

PID_TAG = "registry/pid"
HOST_TAG = "registry/host"
PROCESS_START_TAG = "registry/process_start"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED,
              dg.DagsterRunStatus.CANCELING]


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_tags() -> dict[str, str]:
    """Tags that let a later command tell whether this process is still alive."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), PROCESS_START_TAG: _process_start(pid)}


def _alive(tags: dict[str, str]) -> bool:
    if tags.get(HOST_TAG) != socket.gethostname():
        return True  # another machine's process: not ours to judge
    try:
        pid = int(tags[PID_TAG])
        os.kill(pid, 0)
    except (KeyError, ValueError):
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = tags.get(PROCESS_START_TAG)
    return not started or _process_start(pid) == started


@dataclass
class Cleanup:
    dead_runs: list[str]
    freed_runs: list[str]

    def lines(self) -> list[str]:
        out = [f"run {run_id} of a process that no longer exists: marked failed" for run_id in self.dead_runs]
        out += [f"freed the `{WAREHOUSE_POOL}` slot held by finished run {run_id}" for run_id in self.freed_runs]
        return out


def clean_up_dead_runs(instance: dg.DagsterInstance) -> Cleanup:
    """Mark unfinished command-line runs whose process is gone as failed; free every pool slot
    held by a run that is not running any more."""
    dead = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        if PID_TAG in run.tags and not _alive(run.tags):
            instance.report_run_failed(run, message="The process running this run no longer exists "
                                                    "(killed or crashed); found by `registry run`.")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            dead.append(run.run_id)
    freed = []
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits and WAREHOUSE_POOL in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(WAREHOUSE_POOL)
        holders = {slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}
        for run_id in sorted(holders - set(dead)):
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                freed.append(run_id)
    return Cleanup(dead, freed)


def pool_holders(instance: dg.DagsterInstance, exclude: str | None = None) -> list[str]:
    """Runs holding the warehouse pool's slot (other than ``exclude``)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits or WAREHOUSE_POOL not in storage.get_concurrency_keys():
        return []
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    return sorted({slot.run_id for slot in info.claimed_slots} - {exclude})


def wait_for_pool(instance: dg.DagsterInstance, timeout: float, say: Callable[[str], None],
                  poll: float = 2.0) -> None:
    """Wait, saying so, while a live run holds the warehouse; give up after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    announced: set[str] = set()
    while holders := pool_holders(instance):
        for run_id in holders:
            if run_id not in announced:
                run = instance.get_run_by_id(run_id)
                say(f"waiting for run {run_id} ({run.job_name if run else 'unknown job'}, "
                    f"{run.status.value if run else 'unknown'}) which holds the warehouse "
                    f"(at most {timeout:.0f} s)")
                announced.add(run_id)
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"the warehouse is still held by run(s) {', '.join(holders)} after {timeout:.0f} s; "
                "try again when it has finished (or cancel it in the Dagster UI)")
        time.sleep(poll)
        clean_up_dead_runs(instance)
