"""LOG_FORMAT=json: one JSON object per log line (time, level, logger, message, exception), for log shippers.

    from core.jsonlog import setup; setup()        the jobs process, the widget, scripts
    deploy/logging-json.yml                         Rasa (--logging-config-file) and rasa_sdk
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from core.settings import shared_settings


class JsonFormatter(logging.Formatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shared = shared_settings()
        self.service = shared.service or shared.hostname

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_logs() -> bool:
    return shared_settings().log_json


def setup(level: int = logging.INFO, text_format: str = "%(message)s") -> None:
    """Root logging to stderr: JSON lines when LOG_FORMAT=json, else `text_format`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs() else logging.Formatter(text_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
