"""SMS receipts for savings entries: text only, from the catalogs. The edge and the CLI send them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .catalog import N_, Translator

__all__ = ["Balances", "receipt_text", "money", "entry_label"]

_WHAT = {
    "shares": N_("{shares} shares ({amount})"),
    "social_fund": N_("social fund {amount}"),
    "loan": N_("loan {amount}"),
    "repayment": N_("loan repaid {amount}"),
    "interest": N_("loan charge {amount}"),
    "fine": N_("fine {amount}"),
    "share_out": N_("share-out {amount}"),
}
MSG_RECEIPT = N_("Minerline {day}: {what} recorded for you. Savings {savings}. Loan {loan}. Social fund {social}.")
MSG_CORRECTED = N_("Minerline {day}: your entry {what} was corrected. Savings {savings}. Loan {loan}. "
                   "Social fund {social}.")
MSG_DISCREET = N_("Minerline {day}: your group updated your record. Dial {code} to see it.")


@dataclass(frozen=True)
class Balances:
    savings: int
    loan: int
    social_fund: int


def money(amount: int) -> str:
    """Whole shillings with thousands separators: 15000 -> '15,000'."""
    return f"{amount:,}"


def entry_label(t: Translator, kind: str, shares: int, amount: int) -> str:
    return t(_WHAT[kind]).format(shares=abs(shares), amount=money(abs(amount)))


def receipt_text(t: Translator, *, kind: str, shares: int, amount: int, balances: Balances, day: date,
                 discreet: bool, service_code: str, corrected: bool = False) -> str:
    """The member's receipt; discreet receipts carry no amounts (phones are shared)."""
    stamp = day.strftime("%d/%m")
    if discreet:
        return t(MSG_DISCREET).format(day=stamp, code=service_code)
    template = MSG_CORRECTED if corrected else MSG_RECEIPT
    return t(template).format(day=stamp, what=entry_label(t, kind, shares, amount), savings=money(balances.savings),
                              loan=money(balances.loan), social=money(balances.social_fund))
