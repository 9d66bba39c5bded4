"""Gateway callbacks (``/sms/delivery``, ``/sms/inbound``, ``/sms/optout``) and the delivery-report rules.

A delivery report is stored once per (message id, status), then matched to its outbox row: by the
message id, or, for a send whose outcome is unknown (we never saw its message id), by the number and
time. Reports only move a message forward: a late ``Sent`` never undoes ``Success`` or ``Failed``.
The jobs and the sweep use the same functions for reports that arrived before their row could match.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import (
    FINAL_STATUSES,
    DeliveryReport,
    InvalidPhone,
    Member,
    OutboxMessage,
    OutboxStatus,
    normalize_phone,
    utcnow,
)
from models.outbox import UNKNOWN_LITERAL

from . import hotsql, metrics
from .inbound import IncomingSms, handle_inbound, set_opted_out
from .outbox import enqueue_send

__all__ = [
    "bp",
    "IncomingReport",
    "record_delivery_report",
    "match_report",
    "apply_report",
    "apply_stored_reports",
    "match_orphan_reports",
    "SUCCESS",
    "FAILED_REPORT_STATUSES",
]

bp = Blueprint("sms", __name__)
log = logging.getLogger("minerline.sms.callbacks")

SUCCESS = "Success"
# Final failures. AbsentSubscriber and Expired are not in the docs but seen in the wild (reference 3.1).
FAILED_REPORT_STATUSES = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})
# How far along a report says the message is; a report with a lower rank never overwrites a higher one.
_INTERIM_RANK = {"Sent": 1, "Submitted": 2, "Buffered": 3}
_FINAL_RANK = 10
# Reports older than this that never matched a row are left alone by the sweep.
ORPHAN_WINDOW = timedelta(days=2)


def _rank(status: str | None) -> int:
    if status is None:
        return -1
    if status == SUCCESS or status in FAILED_REPORT_STATUSES:
        return _FINAL_RANK
    return _INTERIM_RANK.get(status, 0)


@dataclass(frozen=True)
class IncomingReport:
    """A delivery report as the gateway posts it."""

    message_id: str
    status: str
    phone: str | None
    network_code: str | None
    failure_reason: str | None
    retry_count: int | None

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> IncomingReport:
        """Parse the form; raises ValueError (with a reason to answer) when ``id`` or ``status`` is missing."""
        message_id = (form.get("id") or "").strip()
        status = (form.get("status") or "").strip()
        if not message_id or not status:
            raise ValueError("id and status are required")
        raw_phone = (form.get("phoneNumber") or "").strip()
        try:
            phone: str | None = normalize_phone(raw_phone) if raw_phone else None
        except InvalidPhone:
            phone = raw_phone[:64] or None  # still matchable against the outbox as the gateway wrote it
        try:
            retry_count: int | None = int(form.get("retryCount") or 0)
        except ValueError:
            retry_count = None
        return cls(
            message_id=message_id[:64],
            status=status[:32],
            phone=phone,
            network_code=(form.get("networkCode") or "").strip()[:16] or None,
            failure_reason=(form.get("failureReason") or "").strip()[:64] or None,
            retry_count=retry_count,
        )


def record_delivery_report(session: Session, incoming: IncomingReport, lease_seconds: int,
                           now: datetime | None = None) -> bool:
    """Store the report (once per id and status), commit, then match and apply it, and commit again.

    Storing first means a report is never lost; matching in a second transaction means a job that
    commits its message ids meanwhile is seen (the job applies stored reports after its own commit,
    so one side always sees the other). Returns True when the report was new.
    """
    now = now or utcnow()
    values = dict(
        message_id=incoming.message_id, status=incoming.status, phone=incoming.phone,
        network_code=incoming.network_code, failure_reason=incoming.failure_reason,
        retry_count=incoming.retry_count, received_at=now,
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    new_id = session.execute(
        insert(DeliveryReport).values(**values)
        .on_conflict_do_nothing(index_elements=["message_id", "status"])
        .returning(DeliveryReport.id)
    ).scalar_one_or_none()
    session.commit()
    metrics.DELIVERY_REPORTS.labels(result="new" if new_id else "repeat").inc()
    report = session.scalars(
        select(DeliveryReport).where(DeliveryReport.message_id == incoming.message_id,
                                     DeliveryReport.status == incoming.status)
    ).one()
    if report.outbox_id is None:  # a repeat of a matched report changes nothing
        row = match_report(session, report, lease_seconds)
        session.commit()
        metrics.DELIVERY_REPORTS.labels(result="matched" if row else "unmatched").inc()
        log.info("delivery report", extra={"report_id": report.id, "status": report.status,
                                           "outbox_id": row.id if row else None, "new": bool(new_id)})
    return new_id is not None


def match_report(session: Session, report: DeliveryReport, lease_seconds: int) -> OutboxMessage | None:
    """Find the report's outbox row and apply the report to it; the caller commits.

    By number and message id first (the index is on the number: see ``models.outbox``). Otherwise an
    'unknown' row for the same number that may have been sent by then: its outcome became unknown at
    or before the report (``unknown_since``), or its last claim started at or before it
    (``lease_until - lease``; the report can beat the timeout). Earliest first. A report without a
    number (the gateway always sends one) is kept, unmatched.
    """
    if not report.phone:
        return None
    row = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.phone == report.phone, OutboxMessage.at_message_id == report.message_id)
        .order_by(OutboxMessage.id).limit(1)
    ).first()
    if row is None:
        at = report.received_at
        row = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.phone == report.phone,
                OutboxMessage.status == UNKNOWN_LITERAL,  # as ix_outbox_unknown_phone says it
                OutboxMessage.at_message_id.is_(None),
                or_(OutboxMessage.unknown_since <= at,
                    OutboxMessage.lease_until <= at + timedelta(seconds=lease_seconds)),
            )
            .order_by(OutboxMessage.unknown_since, OutboxMessage.id)
            .limit(1)
            .with_for_update()
        ).first()
    if row is not None:
        apply_report(row, report)
    return row


def apply_report(row: OutboxMessage, report: DeliveryReport) -> None:
    """Move ``row`` forward by ``report`` (never back from a final status) and link the two."""
    report.outbox_id = row.id
    if row.at_message_id is None:
        row.at_message_id = report.message_id
    current = _rank(row.delivery_status)
    if _rank(report.status) > current and current < _FINAL_RANK:
        row.delivery_status = report.status
    if row.status in FINAL_STATUSES:
        return
    if report.status == SUCCESS:
        row.status = OutboxStatus.DELIVERED
        metrics.count_messages("delivered")
    elif report.status in FAILED_REPORT_STATUSES:
        row.status = OutboxStatus.FAILED
        row.failure_reason = report.failure_reason or report.status
        metrics.count_messages("failed")
    elif row.status in (OutboxStatus.UNKNOWN, OutboxStatus.PENDING):
        # Any report proves the gateway took the message: it must not be sent again.
        row.status = OutboxStatus.ACCEPTED
        metrics.count_messages("accepted")
    row.updated_at = utcnow()


def apply_stored_reports(session: Session, message_ids: list[str], lease_seconds: int) -> int:
    """Apply reports that arrived before these message ids were recorded; returns how many. Caller commits.

    A send job asks after every call, and almost always there are none: a cheap query first."""
    if not message_ids or not hotsql.any_unmatched_report(session.connection(), message_ids):
        return 0
    reports = session.scalars(
        select(DeliveryReport)
        .where(DeliveryReport.message_id.in_(message_ids), DeliveryReport.outbox_id.is_(None))
        .order_by(DeliveryReport.received_at, DeliveryReport.id)
    ).all()
    return sum(1 for report in reports if match_report(session, report, lease_seconds) is not None)


def match_orphan_reports(session: Session, lease_seconds: int, now: datetime | None = None) -> int:
    """Match recent unmatched reports that now have a row: one whose message id was recorded since, or an
    'unknown' row for the same number. Returns how many matched. Caller commits."""
    since = (now or utcnow()) - ORPHAN_WINDOW
    unmatched = (DeliveryReport.outbox_id.is_(None), DeliveryReport.received_at >= since)
    by_id = select(DeliveryReport.id).join(
        OutboxMessage, (OutboxMessage.phone == DeliveryReport.phone)
        & (OutboxMessage.at_message_id == DeliveryReport.message_id)).where(*unmatched)
    by_phone = select(DeliveryReport.id).join(
        OutboxMessage, OutboxMessage.phone == DeliveryReport.phone
    ).where(*unmatched, OutboxMessage.status == UNKNOWN_LITERAL)
    ids = set(session.scalars(by_id)) | set(session.scalars(by_phone))
    if not ids:
        return 0
    reports = session.scalars(
        select(DeliveryReport).where(DeliveryReport.id.in_(ids))
        .order_by(DeliveryReport.received_at, DeliveryReport.id)
    ).all()
    return sum(1 for report in reports
               if report.outbox_id is None and match_report(session, report, lease_seconds) is not None)


def _empty(status: int = 200, reason: str = "") -> Response:
    return Response(reason, status=status, mimetype="text/plain")


@bp.post("/sms/delivery")
def delivery() -> Response:
    """A delivery report: 200 with an empty body once stored; 400 without ``id`` or ``status``."""
    try:
        incoming = IncomingReport.from_form(request.form)
    except ValueError as exc:
        return _empty(400, str(exc))
    runtime = current_app.extensions["minerline"]
    with runtime.sessions() as session:
        record_delivery_report(session, incoming, runtime.settings.sms_lease_seconds)
    return _empty()


@bp.post("/sms/inbound")
def inbound() -> Response:
    """An incoming SMS (``from``, ``to``, ``text``, ``date``, ``id``, ``linkId``, ``networkCode``): STOP and
    START, meeting replies, help (``sms.inbound``). 200 with an empty body once recorded; a repeat of the
    same ``id`` changes nothing. 400 without ``from`` or ``id``."""
    try:
        sms = IncomingSms.from_form(request.form)
    except ValueError as exc:
        return _empty(400, str(exc))
    runtime = current_app.extensions["minerline"]
    catalogs = current_app.extensions["minerline.catalogs"]
    with runtime.sessions() as session, session.begin():
        replies = handle_inbound(session, sms, translators=catalogs.translator, settings=runtime.settings)
    _enqueue(runtime, replies)
    return _empty()


def _enqueue(runtime, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Queue replies after the commit; if Redis is away the sweep sends them (they are rows already)."""
    if not ids:
        return
    try:
        enqueue_send(runtime.queue(), ids)
    except RedisError:
        log.warning("replies not queued; the sweep will send them", extra={"outbox_ids": ids})


@bp.post("/sms/optout")
def optout() -> Response:
    """The gateway's bulk-SMS opt-out (``senderId``, ``phoneNumber``): the member with that number is opted
    out of broadcasts and reminders, as of now (a START sent later opts back in). Unknown or malformed
    numbers are acknowledged and ignored (the gateway would retry a refusal forever)."""
    raw = (request.form.get("phoneNumber") or "").strip()
    if not raw:
        return _empty(400, "phoneNumber is required")
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        log.info("opt-out for a number that is not a Ugandan mobile; ignored")
        return _empty()
    runtime = current_app.extensions["minerline"]
    with runtime.sessions() as session, session.begin():
        member_id = session.scalar(select(Member.id).where(Member.phone == phone))
        applied = member_id is not None and set_opted_out(session, member_id, True, utcnow(), "gateway")
    log.info("opt-out", extra={"members_updated": int(applied)})
    return _empty()
