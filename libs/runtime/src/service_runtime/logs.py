"""JSON logs for every service process: one object a line, with level, time and whatever the
code bound (``session_id``, ``event_id``, ``correlation_id``) through structlog's contextvars.
What the libraries log through the standard ``logging`` (aio-pika, aiormq, asyncpg, uvicorn),
warnings and worse, comes out the same way, on the same stream, with the logger's name: before,
it was a plain-text line on stderr among the JSON (found by the process tests)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_json_logs(level: int = logging.INFO) -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    logging.getLogger("aiormq.channel").addFilter(_not_our_own_cancel)
    root.setLevel(max(level, logging.WARNING))  # the libraries' chatter stays out


def _not_our_own_cancel(record: logging.LogRecord) -> bool:
    """aiormq warns of every channel call cancelled: at a stop, the service cancels its own
    set-up and closing work on purpose (a clean stop logs no warning: the process tests check);
    every other warning of the channel is kept."""
    return "because RPC call %s cancelled" not in str(record.msg)
