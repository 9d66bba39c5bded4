"""``flask --app wsgi broadcast send``: programme staff send one SMS to a cooperative's members.

It never prompts (operators script it). The cooperative is matched ignoring case and extra spaces; an
unknown one exits 1. Each run is a new broadcast. The per-day limit binds leaders on USSD, not this.
"""

from __future__ import annotations

import time

import click
from flask import Flask
from redis.exceptions import RedisError

from models import Audience, utcnow
from sms.broadcasts import (
    PRICE_PER_PART_UGX,
    BroadcastCounts,
    broadcast_counts,
    clean_text,
    create_broadcast,
    find_cooperative,
)
from sms.outbox import enqueue_send
from sms.runtime import Runtime
from sms.segments import count_segments

__all__ = ["register_cli", "POLL_SECONDS"]

POLL_SECONDS = 0.5
_AUDIENCE_LABELS = {Audience.ALL: "all members", Audience.WOMEN: "women", Audience.LEADERS: "leaders"}


def _runtime(app: Flask) -> Runtime:
    from app import runtime_of  # noqa: PLC0415 - app imports this module

    return runtime_of(app)


def _pause(seconds: float) -> None:
    """Between two looks at the counts (tests replace it with running the queued jobs)."""
    time.sleep(seconds)


def register_cli(app: Flask) -> None:
    @app.cli.group("broadcast")
    def broadcast() -> None:
        """SMS to a cooperative's members."""

    @broadcast.command("send")
    @click.option("--cooperative", required=True, help="The cooperative's name (case and spaces do not matter).")
    @click.option("--message", required=True, help="The text; characters with a plain GSM-7 form are replaced.")
    @click.option("--audience", type=click.Choice([a.value for a in Audience]), default=Audience.ALL.value,
                  show_default=True, help="women: gender female; leaders: chairs, secretaries and treasurers.")
    @click.option("--wait", is_flag=True, help="Show progress until every recipient has a final status.")
    def send(cooperative: str, message: str, audience: str, wait: bool) -> None:
        """Send MESSAGE to the members of a cooperative; prints the broadcast's id and counts."""
        rt = _runtime(app)
        text = clean_text(message)
        if not text:
            click.echo("The message is empty.", err=True)
            raise SystemExit(1)
        with rt.sessions() as session, session.begin():
            coop = find_cooperative(session, cooperative)
            if coop is None:
                click.echo(f"No cooperative named {cooperative!r}.", err=True)
                raise SystemExit(1)
            name = coop.name
            created = create_broadcast(session, audience=audience, text=text, now=utcnow(),
                                       local_day=rt.settings.local_date(), cooperative_id=coop.id)
        assert created is not None  # refusals are for leaders on USSD only
        segments = count_segments(text)
        cost = len(created.queued) * segments.parts * PRICE_PER_PART_UGX
        click.echo(f"Broadcast {created.id} to {name}, {_AUDIENCE_LABELS[Audience(audience)]}: "
                   f"{created.recipients} recipients, {len(created.queued)} to send, "
                   f"{created.skipped} skipped (opted out).")
        click.echo(f"{segments.parts} SMS part{'s' if segments.parts != 1 else ''} each ({segments.encoding}), "
                   f"about {cost:,} UGX.")
        if text != message.strip():
            click.echo("Some characters were replaced by their plain GSM-7 form.")
        _queue(rt, created.queued)
        if wait:
            counts = _wait(rt, created.id, created.recipients)
            click.echo(f"Sent: {counts.sent}  Failed: {counts.failed}  Skipped: {counts.skipped}")


def _queue(rt: Runtime, ids: list[int]) -> None:
    try:
        enqueue_send(rt.queue(), ids)
    except RedisError:
        click.echo("Redis is not answering: the worker's sweep will send them when it is back.", err=True)
        return
    if rt.settings.embedded and ids:
        click.echo("No REDIS_URL: they go out while `make run` (embedded mode) is running.")


def _wait(rt: Runtime, broadcast_id: int, recipients: int) -> BroadcastCounts:
    """A progress bar of recipients with a final status (sent, failed or skipped), until all have one."""
    shown = 0
    with click.progressbar(length=recipients, label="Sending", show_pos=True) as bar:
        while True:
            with rt.sessions() as session:
                counts = broadcast_counts(session, [broadcast_id])[broadcast_id]
            bar.update(counts.final - shown)
            shown = counts.final
            if counts.done:
                return counts
            _pause(POLL_SECONDS)
