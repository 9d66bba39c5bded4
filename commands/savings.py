"""``flask --app wsgi savings ...`` and ``flask --app wsgi pin reset``: savings groups for operators.

Each command parses, calls into ``models``, commits, and prints. Refusals exit 1 with the
reason on stderr. Receipts are queued in the same transaction as the entries and enqueued
after it commits.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from menus.catalog import Catalogs
from models import EntryKind, GroupMembership, PinState, SavingsGroup
from models import groups as savings_groups
from models.groups import GroupError, Statement, StatementLine
from models.importer import ImportError_
from models.ledger import LedgerRule, group_figures, record_share_out, share_out_plan
from models.savings_import import RECORDED_BY, import_opening_balances
from receipts import queue_receipt
from sms.outbox import enqueue_send
from sms.runtime import Runtime

__all__ = ["register_cli", "OPERATOR"]

OPERATOR = "cli"  # recorded_by for entries made from the command line
_RACE = "another change to the same group was saved at the same moment; run the command again"
_KINDS = {
    EntryKind.SHARES: "shares",
    EntryKind.SOCIAL_FUND: "social fund",
    EntryKind.LOAN: "loan",
    EntryKind.REPAYMENT: "repayment",
    EntryKind.INTEREST: "interest",
    EntryKind.FINE: "fine",
    EntryKind.SHARE_OUT: "share-out",
    EntryKind.REVERSAL: "reversal",
}


def _runtime(app: Flask) -> Runtime:
    from app import runtime_of  # noqa: PLC0415 - app imports this module

    return runtime_of(app)


def _today(app: Flask) -> date:
    """Today in Uganda."""
    return _runtime(app).settings.local_date()


def _money(amount: int) -> str:
    return f"{amount:,}"


def _masked(phone: str) -> str:
    return phone[-4:].rjust(len(phone), "*")


def _describe(group: SavingsGroup) -> str:
    return (f"share value {_money(group.share_value)}; interest {group.interest_percent}% a month; "
            f"loans up to {group.loan_multiple}x savings; social fund {_money(group.social_fund_amount)} "
            f"a meeting; cycle from {group.cycle_start.isoformat()}")


def _member_row(membership: GroupMembership) -> str:
    return f"  {membership.number:>3}  {membership.member.name:<30}  {_masked(membership.member.phone)}"


def register_cli(app: Flask) -> None:
    @app.cli.group("savings")
    def savings() -> None:
        """Savings groups (VSLAs): groups, opening balances, statements, share-out."""

    @savings.command("create-group")
    @click.option("--cooperative", required=True, help="The cooperative's name (case and spaces ignored).")
    @click.option("--group", "name", required=True, help="The new group's name (unique).")
    @click.option("--share-value", type=click.IntRange(min=1), required=True, help="UGX a share, for the cycle.")
    @click.option("--interest-percent", type=click.IntRange(min=0), default=10, show_default=True,
                  help="Service charge per month, flat.")
    @click.option("--loan-multiple", type=click.IntRange(min=0), default=3, show_default=True,
                  help="Loan limit as a multiple of the member's savings.")
    @click.option("--social-fund", type=click.IntRange(min=0), default=0, show_default=True,
                  help="UGX each member pays into the social fund at a meeting.")
    @click.option("--cycle-start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="YYYY-MM-DD (default: today).")
    def create_group(cooperative: str, name: str, share_value: int, interest_percent: int, loan_multiple: int,
                     social_fund: int, cycle_start: datetime | None) -> None:
        """Create a savings group; every member of the cooperative who is in no group joins it."""
        with _runtime(app).sessions() as session:
            try:
                with session.begin():
                    result = savings_groups.create_group(
                        session, cooperative=cooperative, name=name, share_value=share_value,
                        interest_percent=interest_percent, loan_multiple=loan_multiple, social_fund=social_fund,
                        cycle_start=cycle_start.date() if cycle_start else _today(app))
            except GroupError as exc:
                raise click.ClickException(str(exc)) from None
            except IntegrityError:
                raise click.ClickException(_RACE) from None
            group = result.group
            click.echo(f"Created savings group {group.name} in {group.cooperative.name}.")
            click.echo(f"  {_describe(group)}")
            click.echo(f"Members ({len(result.joined)}):")
            for membership in result.joined:
                click.echo(_member_row(membership))
            if result.skipped:
                click.echo(f"Skipped, already in a group ({len(result.skipped)}):")
                for other in result.skipped:
                    click.echo(f"       {other.member.name:<30}  {_masked(other.member.phone)}  "
                               f"number {other.number} in {other.group.name}")

    @savings.command("add-member")
    @click.option("--group", "name", required=True, help="The group's name.")
    @click.argument("phone")
    def add_member(name: str, phone: str) -> None:
        """Add the member with PHONE to a group under the next member number."""
        with _runtime(app).sessions() as session:
            try:
                with session.begin():
                    group = savings_groups.find_group(session, name)
                    membership, added = savings_groups.add_member(session, group, phone)
            except GroupError as exc:
                raise click.ClickException(str(exc)) from None
            except IntegrityError:
                raise click.ClickException(_RACE) from None
            verb = "joined" if added else "is already in"
            click.echo(f"{membership.member.name} {verb} {group.name} as number {membership.number}.")

    @savings.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_balances(file: Path) -> None:
        """Record opening balances from FILE.csv (phone,group,shares,social_fund,loan_outstanding)."""
        today = _today(app)
        with _runtime(app).sessions() as session:
            try:
                with session.begin():
                    result = import_opening_balances(
                        session, file.read_text(encoding="utf-8-sig", errors="replace"), meeting_date=today)
            except ImportError_ as exc:
                click.echo(f"Nothing was imported. Fix these rows and try again ({len(exc.errors)}):", err=True)
                for error in exc.errors:
                    click.echo(f"  {error}", err=True)
                raise SystemExit(1) from None
            except IntegrityError:
                raise click.ClickException(_RACE) from None
            click.echo(f"Opening balances recorded for {result.members} members: {result.entries} entries, "
                       f"dated {today.isoformat()}, recorded by {RECORDED_BY!r}.")
            click.echo("No SMS receipts are sent for opening balances.")
            for group in result.groups:
                totals = group_figures(session, group)
                click.echo(f"  {group.name}: savings {_money(totals.savings)} ({totals.shares} shares), "
                           f"social fund {_money(totals.social_fund)}, loans out {_money(totals.loans_out)}, "
                           f"the box should hold {_money(totals.cash)}")
                if totals.cash < 0:
                    click.echo(f"  Warning: loans out are more than {group.name}'s savings and social fund: "
                               "the interest the group earned before the import is not in this file.", err=True)

    @savings.command("statement")
    @click.option("--group", "name", required=True, help="The group's name.")
    def statement(name: str) -> None:
        """Print the group's ledger, each member's figures and the group totals."""
        with _runtime(app).sessions() as session:
            try:
                group = savings_groups.find_group(session, name)
            except GroupError as exc:
                raise click.ClickException(str(exc)) from None
            for line in _statement_lines(savings_groups.group_statement(session, group)):
                click.echo(line)

    @savings.command("share-out")
    @click.option("--group", "name", required=True, help="The group's name.")
    @click.option("--commit", is_flag=True, help="Record the payouts and send each member a receipt.")
    def share_out(name: str, commit: bool) -> None:
        """Work out each member's payout: the fund over the total shares, times her shares."""
        rt = _runtime(app)
        today = _today(app)
        receipts: list[int] = []
        with rt.sessions() as session:
            try:
                with session.begin():
                    group = savings_groups.find_group(session, name)
                    fund = group_figures(session, group).loan_fund
                    plan = share_out_plan(session, group)
                    if not any(shares for _m, shares, _pay in plan):
                        raise GroupError(f"nothing to share out: no member of {group.name} holds shares")
                    if commit:
                        plan = record_share_out(session, group, meeting_date=today, recorded_by=OPERATOR)
                        receipts = _queue_share_out_receipts(session, rt, group, plan, today)
            except (GroupError, LedgerRule) as exc:
                raise click.ClickException(str(exc)) from None
            except IntegrityError:
                raise click.ClickException(_RACE) from None
            queued = _enqueue(rt, receipts)
            total_shares = sum(shares for _m, shares, _pay in plan)
            click.echo(f"Share-out for {group.name}: {_money(fund)} over {total_shares} shares "
                       f"(the social fund stays in the box).")
            click.echo(f"  {'no':>3}  {'member':<30}  {'shares':>6}  {'payout':>10}")
            for membership, shares, payout in plan:
                click.echo(f"  {membership.number:>3}  {membership.member.name:<30}  {shares:>6}  {_money(payout):>10}")
            click.echo(f"  {'':>3}  {'total':<30}  {total_shares:>6}  {_money(sum(p for *_x, p in plan)):>10}")
        if commit:
            click.echo(f"Recorded on {today.isoformat()}; {len(receipts)} SMS receipts queued.")
            if not queued:
                click.echo("Redis did not answer: the receipts wait in the outbox and the worker's sweep sends them.",
                           err=True)
        else:
            click.echo("Nothing recorded. Run again with --commit to record the payouts and send receipts.")

    @app.cli.group("pin")
    def pin() -> None:
        """Member PINs."""

    @pin.command("reset")
    @click.argument("phone")
    def pin_reset(phone: str) -> None:
        """Remove the PIN and any lock of the member with PHONE: she sets a new PIN on next use."""
        with _runtime(app).sessions() as session:
            try:
                with session.begin():
                    member = savings_groups.find_member(session, phone)
                    removed = session.execute(delete(PinState).where(PinState.member_id == member.id)).rowcount
            except GroupError as exc:
                raise click.ClickException(str(exc)) from None
        if removed:
            click.echo(f"PIN reset for {member.name}: a new PIN is set on next use.")
        else:
            click.echo(f"{member.name} has no PIN yet: one is set on first use.")


def _enqueue(rt: Runtime, outbox_ids: list[int]) -> bool:
    """Queue the send jobs (after the commit); the outbox rows are safe if Redis is away."""
    if not outbox_ids:
        return True
    try:
        enqueue_send(rt.queue(), outbox_ids)
    except RedisError:
        return False
    return True


def _queue_share_out_receipts(session: Session, rt: Runtime, group: SavingsGroup,
                              plan: list[tuple[GroupMembership, int, int]], day: date) -> list[int]:
    catalogs = Catalogs.load(rt.settings.locales_dir)
    ids = []
    for membership, shares, payout in plan:
        if shares == 0 and payout == 0:
            continue  # record_share_out records nothing for her either
        outbox_id = queue_receipt(
            session, catalogs=catalogs, settings=rt.settings, membership_id=membership.id,
            kind=EntryKind.SHARE_OUT, shares=shares, amount=payout,
            idempotency_key=f"receipt:share-out:{group.id}:{day.isoformat()}:{membership.id}")
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


def _refs(line: StatementLine) -> str:
    entry = line.entry
    refs = []
    if entry.reverses_id is not None:
        refs.append(f"reverses #{entry.reverses_id} ({_KINDS[entry.effect_kind]})")
    if line.reversed_by is not None:
        refs.append(f"reversed by #{line.reversed_by}")
    if entry.loan_id is not None:
        refs.append(f"on loan #{entry.loan_id}")
    if entry.due_date is not None:
        refs.append(f"due {entry.due_date.isoformat()}")
    if entry.note:
        refs.append(entry.note)
    return "; ".join(refs)


def _statement_lines(statement: Statement) -> list[str]:
    group, totals = statement.group, statement.totals
    out = [f"{group.name} ({group.cooperative.name})", f"  {_describe(group)}", "",
           f"Ledger ({len(statement.lines)} entries):",
           f"  {'#':>5}  {'date':<10}  {'no':>3}  {'member':<22}  {'kind':<11}  {'shares':>6}  {'amount':>10}  "
           f"{'recorded by':<16}  references"]
    for line in statement.lines:
        e = line.entry
        shares = str(e.shares) if e.shares else ""
        out.append(f"  {e.id:>5}  {e.meeting_date.isoformat():<10}  {line.number:>3}  {line.member_name[:22]:<22}  "
                   f"{_KINDS[e.kind]:<11}  {shares:>6}  {_money(e.amount):>10}  {line.recorded_by[:16]:<16}  "
                   f"{_refs(line)}".rstrip())
    out += ["", "Members:",
            f"  {'no':>3}  {'member':<22}  {'shares':>6}  {'savings':>10}  {'social fund':>11}  {'loan':>10}  "
            f"{'projected share-out':>19}"]
    for m in statement.members:
        f = m.figures
        out.append(f"  {m.number:>3}  {m.name[:22]:<22}  {f.shares:>6}  {_money(f.savings):>10}  "
                   f"{_money(f.social_fund):>11}  {_money(f.loan_outstanding):>10}  "
                   f"{_money(m.projected_share_out):>19}")
    value = (f"{_money(statement.value_per_share):>12}  ({_money(statement.fund)} over {totals.shares} shares)"
             if totals.shares else f"{'-':>12}  (no shares yet)")
    out += ["", "Totals:",
            f"  savings                {_money(totals.savings):>12}  ({totals.shares} shares)",
            f"  loans out              {_money(totals.loans_out):>12}",
            f"  social fund            {_money(totals.social_fund):>12}",
            f"  fines                  {_money(totals.fines):>12}",
            f"  interest charged       {_money(totals.interest):>12}",
            f"  the box should hold    {_money(totals.cash):>12}",
            f"  shared out             {_money(totals.share_out):>12}",
            f"  value per share        {value}",
            f"  projected share-out    {_money(sum(m.projected_share_out for m in statement.members)):>12}"
            + ("  (once loans are repaid)" if totals.loans_out else "")]
    return out
