"""Operations: structured logs without phone numbers, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import logging
import re
import sys

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text

from settings import Settings

__all__ = ["bp", "configure_logging", "instrument", "redact", "RedactingFilter"]

bp = Blueprint("ops", __name__)

# A Ugandan number in any form someone might write it: +256..., 256..., 07..., 7xxxxxxxx.
_PHONE = re.compile(r"(?<!\d)(?:\+?256|0)?\s?7\d{2}\s?\d{3}\s?\d{3}(?!\d)")


def redact(message: str) -> str:
    return _PHONE.sub("[phone]", message)


class RedactingFilter(logging.Filter):
    """A last line of defence: no log line leaves with something that looks like a phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # A traceback can quote SQL parameters: format it here and redact it too.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Werkzeug's access log writes query strings; ours carry no numbers, but keep it quiet.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for name in ("rq.worker", "rq.scheduler"):
        logging.getLogger(name).addFilter(RedactingFilter())


def instrument(app: Flask) -> None:
    """Nothing per-request beyond the counters the blueprints keep; hook left for later areas."""


@bp.get("/healthz")
def healthz() -> tuple[dict, int]:
    runtime = current_app.extensions["minerline"]
    checks: dict[str, str] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        runtime.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return {"status": "ok" if healthy else "error", **checks}, 200 if healthy else 503


@bp.get("/metrics")
def metrics() -> Response:
    from ussd.metrics import TALLY

    TALLY.flush()  # this process's hop counts, written now rather than within the second
    if current_app.extensions["minerline"].settings.prometheus_multiproc_dir:
        # Under gunicorn every worker writes its own files; add them all up.
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
