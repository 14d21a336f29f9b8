"""JSON logs for every service process: one object a line, with level, time and whatever the
code bound (``session_id``, ``event_id``, ``correlation_id``) through structlog's contextvars."""

from __future__ import annotations

import logging

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
