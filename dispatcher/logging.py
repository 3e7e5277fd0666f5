"""Structured logging: ``log.info("sent", notification=id, status=code)`` everywhere.

Console output for people, one JSON object per line with ``LOG_FORMAT=json``. Values of keys that name a
secret are masked before anything is rendered, so a careless ``log.info(..., hottok=token)`` leaks nothing.
"""

from __future__ import annotations

import logging.config

import structlog

SECRET_KEYS = ("hottok", "secret", "password", "authorization", "token")


def mask_secret(value: object) -> str:
    """``abcd…wxyz`` for long secrets, ``****`` for short ones: enough to recognise, not to use."""
    text = "" if value is None else str(value)
    if len(text) >= 16:
        return f"{text[:4]}…{text[-4:]}"
    return "****" if text else ""


def _mask_secrets(_logger, _name, event_dict):
    for key in list(event_dict):
        if any(word in key.lower() for word in SECRET_KEYS):
            event_dict[key] = mask_secret(event_dict[key])
    return event_dict


def configure_logging(*, level: str = "INFO", fmt: str = "console") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        *([structlog.processors.format_exc_info] if fmt == "json" else []),
                        renderer,
                    ],
                    "foreign_pre_chain": shared,
                }
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "INFO"},
                "urllib3": {"level": "WARNING"},
                "faker": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
