"""What `registry run` shows while it works.

On a terminal: a progress bar per step of the data's path (landing, dbt, marts, publish)
drawn by ``rich``. Elsewhere (a log file, CI): plain lines, no colour codes. Either way,
each distinct warning is shown once and counted, and everything dbt prints goes to the
run's log file in the state folder instead of the screen.
"""
from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

DBT_PROGRESS = re.compile(r"^\s*(\d+) of (\d+) (OK|PASS|WARN|FAIL|ERROR|SKIP|NO-OP)\b")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Step keys -> the name of their stage on the data's path.
STAGES = (("site_master", "landing"), ("mapping_overrides", "landing"), ("inbox_strays", "landing"),
          ("site_landing", "landing"), ("registry_dbt_models", "dbt"), ("outcome_marts", "marts"),
          ("publish", "publish"), ("as_of_publish", "as-of"), ("release_held", "release"))
# Lines of the libraries' own bookkeeping: kept in the run log, not shown.
QUIET = ("Running dbt command", "Finished dbt command", "Copying `", "A dbt subsetted execution")


def stage_of(step_key: str | None) -> str | None:
    if not step_key:
        return None
    for prefix, stage in STAGES:
        if step_key.startswith(prefix):
            return stage
    return "checks"


class RunDisplay:
    """Progress and messages of one run; ``tty`` picks the live display or plain lines."""

    def __init__(self, out: TextIO = sys.stdout, tty: bool | None = None, log_file: Path | None = None):
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.warnings: Counter[str] = Counter()
        self.errors: list[str] = []
        self._log = open(log_file, "a", encoding="utf-8") if log_file else None  # noqa: SIM115
        self._stages_started: set[str] = set()
        self._progress = None
        self._tasks: dict[str, int] = {}
        self._dbt_last_printed = -1
        if self.tty:
            self._progress = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                                      console=Console(file=out), transient=False)

    # -- the run's events -------------------------------------------------------------
    def __enter__(self) -> RunDisplay:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            for task in self._tasks.values():
                self._progress.update(task, completed=self._progress.tasks[task].total or 1)
            self._progress.stop()
        if self.warnings:
            self.line(f"{sum(self.warnings.values())} warning(s), {len(self.warnings)} distinct:")
            for text, n in self.warnings.most_common():
                self.line(f"  {text}" + (f"  (x{n})" if n > 1 else ""))
        if self._log:
            self._log.close()

    def line(self, text: str) -> None:
        text = ANSI.sub("", text)
        if self._progress:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.out, flush=True)

    def log(self, text: str) -> None:
        if self._log:
            self._log.write(ANSI.sub("", text).rstrip("\n") + "\n")
            self._log.flush()

    def on_log(self, step_key: str | None, level: int, message: str, event_type: str | None) -> None:
        """A Dagster log record of the run (see orchestration.defs.operations.cli_logger)."""
        self.log(f"{logging.getLevelName(level)} {step_key or 'run'}: {message}")
        stage = stage_of(step_key)
        if event_type == "STEP_START" and stage and stage not in self._stages_started:
            self._stages_started.add(stage)
            self._start_stage(stage)
        if event_type == "STEP_SUCCESS" and stage and stage != "checks":
            self._finish_stage(stage)
        if event_type == "STEP_FAILURE":
            self.errors.append(f"{step_key}: {message.splitlines()[0] if message else ''}")
            self.line(f"error   {step_key}: {message.splitlines()[0] if message else 'failed'}")
        elif level >= logging.WARNING and event_type is None:
            # shown once each, with its count, when the run ends
            self.warnings[message.splitlines()[0] if message else ""] += 1
        elif (level == logging.INFO and event_type is None and step_key and stage != "dbt"
              and not message.startswith(QUIET)):
            self.line(f"{stage:<8}{message.splitlines()[0]}")

    def on_dbt_output(self, text: str) -> None:
        """A line dbt printed: kept in the log file, counted in the progress."""
        self.log(text)
        match = DBT_PROGRESS.match(ANSI.sub("", text))
        if not match:
            return
        done, total = int(match.group(1)), int(match.group(2))
        if self._progress:
            task = self._tasks.get("dbt")
            if task is None:
                self._start_stage("dbt")
                task = self._tasks["dbt"]
            self._progress.update(task, completed=done, total=total, note="")
        elif done == total or done * 10 // total > self._dbt_last_printed:
            self._dbt_last_printed = done * 10 // total
            self.line(f"dbt     {done} of {total} models and tests done")

    # -- stages ------------------------------------------------------------------------
    def _start_stage(self, stage: str) -> None:
        if self._progress and stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=None, note="")
        elif not self._progress:
            self.line(f"{stage:<8}started")

    def _finish_stage(self, stage: str) -> None:
        if self._progress and stage in self._tasks:
            task = self._tasks[stage]
            total = self._progress.tasks[task].total or 1
            self._progress.update(task, total=total, completed=total)


class DbtOutputSink:
    """A file-like object for ``contextlib.redirect_stdout``: what the libraries print during
    the run (dbt's lines) goes to the display, not the screen."""

    def __init__(self, display: RunDisplay):
        self.display = display
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self.display.on_dbt_output(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
