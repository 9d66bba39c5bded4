"""SQLAlchemy 2 models and database helpers. Imports nothing from Flask, menus, sms or ussd."""

from .base import Base, utcnow
from .db import make_engine, make_session_factory
from .members import LANGUAGES, LEADER_ROLES, Cooperative, Gender, Member, Role, Site
from .messaging import (
    Audience,
    Broadcast,
    FailingMember,
    InboundKind,
    InboundMessage,
    JobMark,
    Meeting,
    MeetingReply,
    MeetingStatus,
    OptState,
    ReminderRun,
    RsvpAnswer,
)
from .outbox import FINAL_STATUSES, DeliveryReport, OutboxMessage, OutboxStatus
from .phones import InvalidPhone, normalize_phone
from .preferences import LanguageChoice, phone_key
from .safety import Category, ReportStatus, SafetyContact, SafetyLimit, SafetyNote, SafetyReport, Sealer
from .savings import EntryKind, GroupMembership, LedgerEntry, PinState, SavingsGroup
from .ussd_stats import UssdSessionStat
from .wages import MIN_PEOPLE, PayForm, WageFigures, WageReport, WageRole

__all__ = [
    "Base",
    "utcnow",
    "make_engine",
    "make_session_factory",
    "Cooperative",
    "Site",
    "Member",
    "Gender",
    "Role",
    "LEADER_ROLES",
    "LANGUAGES",
    "OutboxMessage",
    "OutboxStatus",
    "DeliveryReport",
    "FINAL_STATUSES",
    "InvalidPhone",
    "normalize_phone",
    "LanguageChoice",
    "phone_key",
    "UssdSessionStat",
    "SavingsGroup",
    "GroupMembership",
    "LedgerEntry",
    "EntryKind",
    "PinState",
    "WageReport",
    "WageRole",
    "PayForm",
    "WageFigures",
    "MIN_PEOPLE",
    "SafetyReport",
    "SafetyNote",
    "SafetyContact",
    "SafetyLimit",
    "ReportStatus",
    "Category",
    "Sealer",
    "Audience",
    "Broadcast",
    "Meeting",
    "MeetingStatus",
    "MeetingReply",
    "RsvpAnswer",
    "ReminderRun",
    "InboundMessage",
    "InboundKind",
    "OptState",
    "FailingMember",
    "JobMark",
]
