"""Structured logging: ``log.info("sent", notification=id, status=code)`` everywhere.

Console output for people, one JSON object per line with ``LOG_FORMAT=json``. Values of keys that name a
secret are masked before anything is rendered, so a careless ``log.info(..., hottok=token)`` leaks nothing.
"""

from __future__ import annotations

import logging.config

import structlog

from core.secrets import is_secret_name, mask_query_secrets, mask_secret


class QuerySecretsFilter(logging.Filter):
    """Masks secrets in URLs that other libraries log, like runserver's request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_query_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_query_secrets(a) if isinstance(a, str) else a for a in record.args)
        return True


def _mask_secrets(_logger, _name, event_dict):
    for key in list(event_dict):
        if is_secret_name(key):
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
            "filters": {"query_secrets": {"()": QuerySecretsFilter}},
            "handlers": {
                "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["query_secrets"]}
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "INFO"},
                "urllib3": {"level": "WARNING"},
                "faker": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        # Drop what the level filters out before doing any work on it (the delivery path logs per attempt).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
