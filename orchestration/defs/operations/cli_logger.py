"""A Dagster logger that hands a run's log records to whoever listens in this process:
`registry run` turns them into a progress display and plain lines. Runs launched by the
daemon or the UI keep Dagster's own console logger."""
from __future__ import annotations

import logging
from collections.abc import Callable

import dagster as dg

# Callables (step key, level, message, event type) registered by the command line.
Listener = Callable[[str | None, int, str, str | None], None]
LISTENERS: list[Listener] = []


class _ListenerHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        event_type = event.event_type_value if event is not None else None
        message = meta.get("orig_message") or record.getMessage()
        for listener in list(LISTENERS):
            listener(meta.get("step_key"), record.levelno, str(message), event_type)


@dg.logger(description="Forwards run logs to the `registry` command's display (progress, each "
                       "distinct warning once); used by `registry run` only.")
def registry_cli_logger(init_context) -> logging.Logger:
    logger = logging.Logger("registry_cli", logging.DEBUG)
    logger.addHandler(_ListenerHandler())
    return logger
