"""One registry command at a time on a warehouse: a lock file beside the warehouse.

The warehouse pool makes steps take turns, not runs: a second command that started between
two steps of a running one interleaved its steps with it, and the first run's publish was
then refused by the gate (its checks had run against a landing the second one replaced).
A command takes this lock before anything else and holds it until it has finished; one that
finds it taken waits, saying who holds it, for at most `max_wait_seconds`. The kernel drops
the lock with its holder's process, so a killed command never blocks the next one.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


class CommandLock:
    """``acquire`` once, ``release`` when the command has finished (or let the process end)."""

    def __init__(self, warehouse: Path):
        self.path = warehouse.with_name(warehouse.name + ".command.lock")
        self._file: IO | None = None

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it: command, process id and start time."""
        try:
            return self.path.read_text().strip() or "another registry command"
        except OSError:
            return "another registry command"

    def acquire(self, command: str, timeout: float, say: Callable[[str], None], poll: float = 0.5) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self.path, "a+")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    say(f"waiting for {self.holder()}, which holds the warehouse (at most {timeout:.0f} s)")
                    announced = True
                if time.monotonic() >= deadline:
                    lock.close()
                    raise TimeoutError(f"the warehouse is still held by {self.holder()} after {timeout:.0f} s; "
                                       "try again when it has finished") from None
                time.sleep(poll)
        # Only the command's name: its arguments may carry a person's name (`release --by`).
        lock.seek(0)
        lock.truncate()
        lock.write(f"`registry {command}` (process {os.getpid()}, started "
                   f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())})\n")
        lock.flush()
        self._file = lock

    def release(self) -> None:
        if self._file is not None:
            self._file.truncate(0)
            self._file.close()  # and with it the lock
            self._file = None
