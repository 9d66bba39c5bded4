"""The ``/ussd`` blueprint: thin views over ``HopHandler``.

Form-encoded ``POST /ussd`` (every hop the gateway sends) is answered before Flask by
``ussd.endpoint``; the view here answers the rest the same way (other content types).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select, update

from models import UssdSessionStat

from . import metrics
from .endpoint import answer_hop, hop_handler
from .sessions import SESSION_KEY

__all__ = ["bp"]

bp = Blueprint("ussd", __name__)
log = logging.getLogger("minerline.ussd")

ENDED_KEY = "ml:ussd:ended:{}"
STATUSES = frozenset({"Success", "Incomplete", "Failed"})


def _plain(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.post("/ussd")
def ussd() -> Response:
    handler = hop_handler(current_app)
    status, text, screen = answer_hop(handler, request.form)  # type: ignore[arg-type]
    response = _plain(text, status)
    response.call_on_close(handler.settle)
    if screen:
        response.headers["at-ussd-hop-metadata"] = screen
    return response


@bp.post("/ussd/events")
def ussd_events() -> Response:
    """End-of-session notification: keep only the status, hop count and duration."""
    runtime = current_app.extensions["minerline"]
    session_id = (request.form.get("sessionId") or "").strip()
    status = (request.form.get("status") or "").strip()
    if not session_id or status not in STATUSES:
        return _plain("sessionId and a status of Success, Incomplete or Failed are required", 400)
    try:
        hops = max(0, int(request.form.get("hopsCount") or 0))
        duration = max(0, int(float(request.form.get("durationInMillis") or 0)))
    except ValueError:
        return _plain("hopsCount and durationInMillis must be numbers", 400)
    # The session is over for the gateway: drop what it held (a dropped safety report's answers).
    runtime.redis.delete(SESSION_KEY.format(session_id))
    # Count each session once, though the gateway may retry; the key is a keyed hash, not the id.
    marker = hmac.new(runtime.settings.secret_key.encode(), b"ended:" + session_id.encode(),
                      hashlib.sha256).hexdigest()[:32]
    if not runtime.redis.set(ENDED_KEY.format(marker), 1, nx=True, ex=86400):
        return _plain("")
    day = datetime.now(UTC).date()
    try:
        with runtime.sessions() as db, db.begin():
            stat = db.scalar(select(UssdSessionStat).where(UssdSessionStat.day == day,
                                                           UssdSessionStat.status == status))
            if stat is None:
                db.add(UssdSessionStat(day=day, status=status, sessions=1, hops=hops, duration_ms=duration))
            else:
                db.execute(update(UssdSessionStat).where(UssdSessionStat.id == stat.id).values(
                    sessions=UssdSessionStat.sessions + 1, hops=UssdSessionStat.hops + hops,
                    duration_ms=UssdSessionStat.duration_ms + duration))
    except Exception:
        runtime.redis.delete(ENDED_KEY.format(marker))  # let the gateway's retry count it
        raise
    metrics.SESSION_ENDS.labels(status=status).inc()
    return _plain("")
