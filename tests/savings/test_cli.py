"""``flask --app wsgi savings ...`` and ``pin reset``: what an operator sees, and what ends up in the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import (
    EntryKind,
    GroupMembership,
    LedgerEntry,
    Member,
    OutboxMessage,
    OutboxStatus,
    PinState,
    SavingsGroup,
    utcnow,
)
from models.demo import DEMO_GROUP
from models.importer import import_members
from models.ledger import group_figures, member_figures, record_entry, reverse_entry

KITUMBI = (
    "phone,name,gender,cooperative\n"
    "0772000001,Amina Nabirye,f,Kitumbi Women Miners\n"
    "0772000002,Betty Namuli,f,Kitumbi Women Miners\n"
    "0772000003,Christine Auma,f,Kitumbi Women Miners\n"
    "0772000009,Rose Akello,f,Busia Gold Cooperative\n"
)


@pytest.fixture
def members(runtime):
    with runtime.sessions() as db, db.begin():
        import_members(db, KITUMBI)


def _create(runner, *extra, group="Tusubira", cooperative="Kitumbi Women Miners"):
    return runner.invoke(args=["savings", "create-group", "--cooperative", cooperative, "--group", group,
                               "--share-value", "2000", *extra])


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "balances.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _numbers(runtime, group="tusubira") -> dict[str, int]:
    with runtime.sessions() as db:
        return dict(db.execute(
            select(Member.name, GroupMembership.number)
            .join(GroupMembership, GroupMembership.member_id == Member.id)
            .join(SavingsGroup, SavingsGroup.id == GroupMembership.group_id)
            .where(SavingsGroup.name_key == group)).all())


def _count(runtime, model) -> int:
    with runtime.sessions() as db:
        return db.scalar(select(func.count()).select_from(model))


# -- create-group ---------------------------------------------------------------------------------------


def test_create_group_enrols_every_member_of_the_cooperative_in_order_of_joining(runner, runtime, members):
    result = runner.invoke(args=[
        "savings", "create-group", "--cooperative", "  kitumbi   WOMEN miners ", "--group", "Tusubira  Savings",
        "--share-value", "2000", "--interest-percent", "5", "--loan-multiple", "2", "--social-fund", "500",
        "--cycle-start", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert "Created savings group Tusubira Savings in Kitumbi Women Miners" in result.output
    assert "Members (3):" in result.output
    assert "1  Amina Nabirye" in result.output and "3  Christine Auma" in result.output
    assert "Rose" not in result.output  # another cooperative
    assert _numbers(runtime, "tusubira savings") == {"Amina Nabirye": 1, "Betty Namuli": 2, "Christine Auma": 3}
    with runtime.sessions() as db:
        group = db.scalars(select(SavingsGroup)).one()
        assert (group.share_value, group.interest_percent, group.loan_multiple, group.social_fund_amount,
                group.cycle_start) == (2000, 5, 2, 500, date(2026, 9, 1))


def test_create_group_uses_the_usual_settings_and_today_by_default(runner, runtime, members):
    assert _create(runner).exit_code == 0
    with runtime.sessions() as db:
        group = db.scalars(select(SavingsGroup)).one()
        assert (group.interest_percent, group.loan_multiple, group.social_fund_amount) == (10, 3, 0)
        assert group.cycle_start == runtime.settings.local_date()  # today in Uganda, not in UTC


def test_create_group_skips_members_already_in_a_group_and_says_so(runner, runtime, members):
    assert _create(runner).exit_code == 0
    with runtime.sessions() as db, db.begin():
        import_members(db, "phone,name,gender,cooperative\n0772000004,Dorah Akiki,f,Kitumbi Women Miners\n")
    result = _create(runner, group="Second Group")
    assert result.exit_code == 0, result.output
    assert "Members (1):" in result.output and "1  Dorah Akiki" in result.output
    assert "Skipped, already in a group (3):" in result.output
    assert "Betty Namuli" in result.output and "number 2 in Tusubira" in result.output
    assert _numbers(runtime, "second group") == {"Dorah Akiki": 1}
    assert _numbers(runtime)["Betty Namuli"] == 2


def test_create_group_refuses_an_unknown_cooperative(runner, runtime, members):
    result = _create(runner, cooperative="Kitumbi Men Miners")
    assert result.exit_code == 1
    assert "no cooperative named 'Kitumbi Men Miners'" in result.output
    assert _count(runtime, SavingsGroup) == 0


def test_group_names_are_unique_ignoring_case_and_spaces(runner, runtime, members):
    assert _create(runner, group="Tusubira Savings").exit_code == 0
    result = _create(runner, group="  TUSUBIRA   savings")
    assert result.exit_code == 1
    assert "a savings group named 'Tusubira Savings' already exists" in result.output
    assert _count(runtime, SavingsGroup) == 1


def test_create_group_refuses_a_share_value_of_nothing(runner, runtime, members):
    result = runner.invoke(args=["savings", "create-group", "--cooperative", "Kitumbi Women Miners",
                                 "--group", "Tusubira", "--share-value", "0"])
    assert result.exit_code == 2 and "share-value" in result.output
    assert _count(runtime, SavingsGroup) == 0


# -- add-member -----------------------------------------------------------------------------------------


def test_add_member_gives_the_next_number(runner, runtime, members):
    assert _create(runner).exit_code == 0
    with runtime.sessions() as db, db.begin():
        import_members(db, "phone,name,gender,cooperative\n0772000004,Dorah Akiki,f,Kitumbi Women Miners\n")
    result = runner.invoke(args=["savings", "add-member", "--group", "TUSUBIRA", "+256 772 000 004"])
    assert result.exit_code == 0, result.output
    assert "Dorah Akiki joined Tusubira as number 4" in result.output
    again = runner.invoke(args=["savings", "add-member", "--group", "Tusubira", "0772000004"])
    assert again.exit_code == 0 and "already in Tusubira as number 4" in again.output
    assert _numbers(runtime)["Dorah Akiki"] == 4


@pytest.mark.parametrize("group, phone, message", [
    ("Tusubira", "0772999999", "no member with phone +256772999999"),
    ("Tusubira", "12345", "not a Ugandan phone number"),
    ("Tusubira", "0772000009", "Rose Akello is a member of Busia Gold Cooperative, not of Kitumbi Women Miners"),
    ("Nowhere", "0772000001", "no savings group named 'Nowhere'"),
])
def test_add_member_errors(runner, runtime, members, group, phone, message):
    assert _create(runner).exit_code == 0
    result = runner.invoke(args=["savings", "add-member", "--group", group, phone])
    assert result.exit_code == 1
    assert message in result.output
    assert _count(runtime, GroupMembership) == 3


def test_add_member_refuses_a_member_of_another_group(runner, runtime, members):
    assert _create(runner).exit_code == 0
    with runtime.sessions() as db, db.begin():
        import_members(db, "phone,name,gender,cooperative\n0772000004,Dorah Akiki,f,Kitumbi Women Miners\n")
    assert _create(runner, group="Second").exit_code == 0
    result = runner.invoke(args=["savings", "add-member", "--group", "Second", "0772000002"])
    assert result.exit_code == 1
    assert "Betty Namuli is already number 2 in Tusubira" in result.output


# -- import ---------------------------------------------------------------------------------------------

HEADER = "phone,group,shares,social_fund,loan_outstanding\n"


def test_import_records_opening_balances_without_receipts(runner, runtime, members, tmp_path):
    assert _create(runner, "--social-fund", "500").exit_code == 0
    path = _write(tmp_path, HEADER + (
        "0772000001,Tusubira,40,\"6,000\",15000\n"   # more than 5 shares, thousands separator
        "+256 772 000 002, tusubira ,12,2000.00,\n"  # blank loan is nothing owed
        "772000003,Tusubira,0,0,0\n"                 # nothing to bring over
    ))
    result = runner.invoke(args=["savings", "import", path])
    assert result.exit_code == 0, result.output
    assert "Opening balances recorded for 3 members: 5 entries" in result.output
    assert "No SMS receipts are sent for opening balances." in result.output
    assert "loans out 15,000" in result.output
    with runtime.sessions() as db:
        entries = db.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        assert [(e.kind, e.shares, e.amount) for e in entries] == [
            (EntryKind.SHARES, 40, 80000), (EntryKind.SOCIAL_FUND, 0, 6000), (EntryKind.LOAN, 0, 15000),
            (EntryKind.SHARES, 12, 24000), (EntryKind.SOCIAL_FUND, 0, 2000)]
        assert {(e.recorded_by, e.note) for e in entries} == {("import", "opening balance")}
        group = db.scalars(select(SavingsGroup)).one()
        amina = db.scalars(select(GroupMembership).where(GroupMembership.number == 1)).one()
        figures = member_figures(db, amina, group)
        assert (figures.shares, figures.savings, figures.social_fund, figures.loan_outstanding) == (40, 80000,
                                                                                                   6000, 15000)
        assert group_figures(db, group).interest == 0  # an opening loan carries no new interest
    assert _count(runtime, OutboxMessage) == 0


def test_an_import_with_bad_rows_records_nothing_and_lists_every_bad_row(runner, runtime, members, tmp_path):
    assert _create(runner).exit_code == 0
    assert _create(runner, group="Busia Savings", cooperative="Busia Gold Cooperative").exit_code == 0
    path = _write(tmp_path, HEADER + (
        "0772000001,Tusubira,5,500,0\n"              # line 2: fine
        "12345,Tusubira,1,0,0\n"                     # line 3: bad phone
        "0772999999,Tusubira,1,0,0\n"                # line 4: nobody has that phone
        "0772000009,Tusubira,1,0,0\n"                # line 5: in another group
        "0772000002,Nowhere,1,0,0\n"                 # line 6: unknown group
        "0772000003,Tusubira,2.5,-100,abc\n"         # line 7: three bad numbers
        "\n"                                         # line 8: blank, not a row
        "256772000001,Tusubira,1,0,0\n"              # line 9: same phone as line 2
    ))
    result = runner.invoke(args=["savings", "import", path])
    assert result.exit_code == 1
    out = result.output
    assert "Nothing was imported. Fix these rows and try again (6):" in out
    assert "line 3: '12345' is not a Ugandan phone number" in out
    assert "line 4: no member with phone *********9999" in out
    assert "line 5: Rose Akello is not in Tusubira but in Busia Savings" in out
    assert "line 6: no savings group named 'Nowhere'" in out
    assert ("line 7: shares '2.5' is not a whole number; social_fund -100 is negative; "
            "loan_outstanding 'abc' is not a whole number") in out
    assert "line 9: phone *********0001 is also on line 2" in out
    assert "line 2" not in out.replace("also on line 2", "")
    assert _count(runtime, LedgerEntry) == 0


def test_a_member_not_in_any_group_is_refused(runner, runtime, members, tmp_path):
    assert _create(runner).exit_code == 0
    path = _write(tmp_path, HEADER + "0772000009,Tusubira,1,0,0\n")
    result = runner.invoke(args=["savings", "import", path])
    assert result.exit_code == 1
    assert "line 2: Rose Akello is not in any savings group" in result.output


def test_importing_the_same_balances_twice_is_refused(runner, runtime, members, tmp_path):
    assert _create(runner).exit_code == 0
    path = _write(tmp_path, HEADER + "0772000001,Tusubira,10,1000,0\n")
    assert runner.invoke(args=["savings", "import", path]).exit_code == 0
    again = runner.invoke(args=["savings", "import", path])
    assert again.exit_code == 1
    assert "line 2: Amina Nabirye already has entries in the ledger" in again.output
    assert _count(runtime, LedgerEntry) == 2


def test_an_import_without_the_columns_says_which_are_missing(runner, runtime, members, tmp_path):
    result = runner.invoke(args=["savings", "import", _write(tmp_path, "phone,group,shares\n0772000001,X,1\n")])
    assert result.exit_code == 1
    assert "line 1: missing column(s): social_fund, loan_outstanding" in result.output


# -- statement ------------------------------------------------------------------------------------------


def _record(runtime, number, kind, **values):
    with runtime.sessions() as db, db.begin():
        group = db.scalars(select(SavingsGroup)).one()
        gm = db.scalars(select(GroupMembership).where(GroupMembership.number == number)).one()
        return record_entry(db, group, gm, kind, meeting_date=date(2026, 9, 1), recorded_by="test", **values)


def test_statement_prints_the_ledger_and_the_totals(runner, runtime, members):
    assert _create(runner, "--social-fund", "500").exit_code == 0
    _record(runtime, 1, EntryKind.SHARES, shares=5)          # 10,000
    _record(runtime, 2, EntryKind.SHARES, shares=2)          # 4,000
    (mistake,) = _record(runtime, 3, EntryKind.SHARES, shares=4)
    for n in (1, 2, 3):
        _record(runtime, n, EntryKind.SOCIAL_FUND, amount=500)
    loan, interest = _record(runtime, 2, EntryKind.LOAN, amount=6000)  # interest 600
    _record(runtime, 2, EntryKind.REPAYMENT, amount=2600)
    _record(runtime, 3, EntryKind.FINE, amount=200)
    with runtime.sessions() as db, db.begin():
        (undo,) = reverse_entry(db, db.scalars(select(SavingsGroup)).one(), mistake, meeting_date=date(2026, 9, 1),
                                recorded_by="cli")
    result = runner.invoke(args=["savings", "statement", "--group", "tusubira"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()

    def line_of(entry_id):
        return next(line for line in lines if line.split() and line.split()[0] == str(entry_id))

    assert "2026-09-01" in line_of(loan) and "Betty Namuli" in line_of(loan) and "6,000" in line_of(loan)
    assert "due 2026-10-01" in line_of(loan)
    assert f"on loan #{loan}" in line_of(interest)
    assert f"reversed by #{undo}" in line_of(mistake)
    assert f"reverses #{mistake} (shares)" in line_of(undo) and "-8,000" in line_of(undo)
    assert "cli" in line_of(undo) and "test" in line_of(loan)
    out = result.output
    # Box: 14,000 saved + 1,500 social fund + 2,600 repaid + 200 fine - 6,000 lent = 12,300.
    # Fund: 12,300 - 1,500 + 4,000 still owed = 14,800 over 7 shares.
    for label, value in (("savings", "14,000"), ("loans out", "4,000"), ("social fund", "1,500"),
                         ("fines", "200"), ("interest charged", "600"), ("the box should hold", "12,300"),
                         ("value per share", "2,114"), ("projected share-out", "14,800")):
        assert any(line.strip().startswith(label) and value in line for line in lines), (label, out)
    # Projected: 14,800 x 5/7 = 10,571.43 and x 2/7 = 4,228.57: the shilling left goes to Betty.
    assert any("Amina Nabirye" in line and line.split()[-1] == "10,571" for line in lines)
    assert any("Betty Namuli" in line and line.split()[-1] == "4,229" for line in lines)
    assert any("Christine Auma" in line and line.split()[-1] == "0" for line in lines)


def test_statement_of_an_unknown_group_is_an_error(runner, runtime, members):
    result = runner.invoke(args=["savings", "statement", "--group", "Nowhere"])
    assert result.exit_code == 1 and "no savings group named 'Nowhere'" in result.output


# -- pin reset ------------------------------------------------------------------------------------------


def test_pin_reset_removes_the_pin_and_the_lock(runner, runtime, members):
    with runtime.sessions() as db, db.begin():
        amina = db.scalars(select(Member).where(Member.phone == "+256772000001")).one()
        db.add(PinState(member_id=amina.id, pin_hash="not-a-real-hash", failures=3,
                        locked_until=utcnow() + timedelta(minutes=30)))
    result = runner.invoke(args=["pin", "reset", "0772 000 001"])
    assert result.exit_code == 0, result.output
    assert "PIN reset for Amina Nabirye" in result.output
    assert _count(runtime, PinState) == 0
    again = runner.invoke(args=["pin", "reset", "0772000001"])
    assert again.exit_code == 0 and "Amina Nabirye has no PIN yet" in again.output


@pytest.mark.parametrize("phone, message", [
    ("0772999999", "no member with phone +256772999999"),
    ("hello", "not a phone number"),
])
def test_pin_reset_of_an_unknown_phone_is_an_error(runner, runtime, members, phone, message):
    result = runner.invoke(args=["pin", "reset", phone])
    assert result.exit_code == 1 and message in result.output


# -- share-out ------------------------------------------------------------------------------------------


@pytest.fixture
def cycle(runner, runtime, members):
    """Amina 2 shares, Betty 1, Christine 4 (14,000); Betty borrows 5,000 (interest 500) and repays
    5,500; Christine is fined 300; each pays 500 to the social fund. Fund: 14,800 over 7 shares."""
    assert _create(runner, "--social-fund", "500").exit_code == 0
    for number, shares in ((1, 2), (2, 1), (3, 4)):
        _record(runtime, number, EntryKind.SHARES, shares=shares)
        _record(runtime, number, EntryKind.SOCIAL_FUND, amount=500)
    _record(runtime, 2, EntryKind.LOAN, amount=5000)
    _record(runtime, 2, EntryKind.REPAYMENT, amount=5500)
    _record(runtime, 3, EntryKind.FINE, amount=300)
    with runtime.sessions() as db, db.begin():
        ids = dict(db.execute(select(GroupMembership.number, GroupMembership.member_id)).all())
        db.add(PinState(member_id=ids[1], pin_hash="x", discreet=False))
        db.add(PinState(member_id=ids[3], pin_hash="x", discreet=True))  # Betty (2) has no PIN yet


def test_share_out_without_commit_prints_the_payouts_and_records_nothing(runner, runtime, cycle):
    result = runner.invoke(args=["savings", "share-out", "--group", "Tusubira"])
    assert result.exit_code == 0, result.output
    # 14,800 x 2/7 = 4,228.57, x 1/7 = 2,114.29, x 4/7 = 8,457.14: the shilling left goes to Amina.
    assert "14,800 over 7 shares" in result.output
    rows = {line.split()[1]: line.split()[-1] for line in result.output.splitlines()
            if line.split() and line.split()[0] in ("1", "2", "3")}
    assert rows == {"Amina": "4,229", "Betty": "2,114", "Christine": "8,457"}
    assert "total" in result.output and "14,800" in result.output.split("total")[1]
    assert "Nothing recorded" in result.output
    assert _count(runtime, OutboxMessage) == 0
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.SHARE_OUT)) == 0


def test_share_out_commit_records_payouts_that_add_up_to_the_fund_and_sends_receipts(runner, runtime, cycle,
                                                                                    sandbox, work):
    result = runner.invoke(args=["savings", "share-out", "--group", "Tusubira", "--commit"])
    assert result.exit_code == 0, result.output
    assert "3 SMS receipts queued" in result.output
    with runtime.sessions() as db:
        payouts = dict(db.execute(
            select(GroupMembership.number, LedgerEntry.amount)
            .join(GroupMembership, GroupMembership.id == LedgerEntry.membership_id)
            .where(LedgerEntry.kind == EntryKind.SHARE_OUT)).all())
        assert payouts == {1: 4229, 2: 2114, 3: 8457}
        assert sum(payouts.values()) == 14800
        totals = group_figures(db, db.scalars(select(SavingsGroup)).one())
        assert (totals.shares, totals.cash, totals.loan_fund) == (0, 1500, 0)  # the social fund stays
    assert work() >= 1
    assert sandbox.messages("+256772000001")[0]["message"].endswith(
        "share-out 4,229 recorded for you. Savings 0. Loan 0. Social fund 500.")
    assert "share-out 2,114 recorded for you" in sandbox.messages("+256772000002")[0]["message"]  # no PIN yet
    discreet = sandbox.messages("+256772000003")[0]["message"]
    assert "8,457" not in discreet and "Dial *384*44#" in discreet
    assert not any(ch.isdigit() for ch in discreet.split(":", 1)[1].replace("*384*44#", ""))


def test_share_out_commit_twice_records_once(runner, runtime, cycle):
    assert runner.invoke(args=["savings", "share-out", "--group", "Tusubira", "--commit"]).exit_code == 0
    again = runner.invoke(args=["savings", "share-out", "--group", "Tusubira", "--commit"])
    assert again.exit_code == 1 and "nothing to share out" in again.output
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.SHARE_OUT)) == 3
    assert _count(runtime, OutboxMessage) == 3


def test_share_out_is_refused_while_loans_are_out(runner, runtime, members):
    assert _create(runner).exit_code == 0
    _record(runtime, 1, EntryKind.SHARES, shares=5)
    _record(runtime, 1, EntryKind.LOAN, amount=1000)
    result = runner.invoke(args=["savings", "share-out", "--group", "Tusubira", "--commit"])
    assert result.exit_code == 1
    assert "1,100 is still owed on loans. Collect it first." in result.output
    assert _count(runtime, OutboxMessage) == 0
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.SHARE_OUT)) == 0


def test_share_out_of_an_unknown_group_is_an_error(runner, runtime, members):
    result = runner.invoke(args=["savings", "share-out", "--group", "Nowhere"])
    assert result.exit_code == 1 and "no savings group named 'Nowhere'" in result.output


# -- demo -----------------------------------------------------------------------------------------------


def test_the_demo_has_a_savings_group_with_real_balances(runner, runtime):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with runtime.sessions() as db:
        group = db.scalars(select(SavingsGroup).where(SavingsGroup.name == DEMO_GROUP["name"])).one()
        assert (group.share_value, group.interest_percent, group.loan_multiple, group.social_fund_amount) == (
            2000, 10, 3, 500)
        totals = group_figures(db, group)
        assert totals.savings > 0 and totals.social_fund > 0 and totals.loans_out > 0 and totals.cash > 0
        assert db.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.REPAYMENT)) >= 1
        meetings = db.scalars(select(LedgerEntry.meeting_date).distinct()).all()
        assert len(meetings) == 6
        assert max(meetings) < utcnow().date()
        memberships = db.scalars(select(GroupMembership).order_by(GroupMembership.number)).all()
        assert [gm.member.name for gm in memberships][:2] == ["Sarah Nakato", "Grace Achieng"]
        assert all(member_figures(db, gm, group).savings > 0 for gm in memberships)
    statement = runner.invoke(args=["savings", "statement", "--group", "Tusubira Savings"])
    assert statement.exit_code == 0 and "Grace Achieng" in statement.output
    again = runner.invoke(args=["demo"])
    assert "Demo data not loaded" in again.output
    assert _count(runtime, SavingsGroup) == 1


def test_share_out_receipts_wait_in_the_outbox_when_redis_is_away(runner, runtime, cycle, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    import commands.savings

    def down(*_args, **_kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(commands.savings, "enqueue_send", down)
    result = runner.invoke(args=["savings", "share-out", "--group", "Tusubira", "--commit"])
    assert result.exit_code == 0, result.output
    assert "the receipts wait in the outbox" in result.output
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)) == 3


def test_an_import_warns_when_loans_are_more_than_the_box_could_hold(runner, runtime, members, tmp_path):
    assert _create(runner).exit_code == 0
    result = runner.invoke(args=["savings", "import", _write(tmp_path, HEADER + "0772000001,Tusubira,1,0,9000\n")])
    assert result.exit_code == 0, result.output
    assert "the box should hold -7,000" in result.output
    assert "Warning: loans out are more than Tusubira's savings and social fund" in result.output
