"""Areas that later releases build. Each keeps its screen id, so the main menu needs no rework."""

from __future__ import annotations

from .common import ComingSoon

__all__ = ["SCREENS"]


class SavingsHome(ComingSoon):
    id = "savings"
    protected = True


class WagesHome(ComingSoon):
    id = "wages"


class SafetyHome(ComingSoon):
    id = "safety"
    sensitive = True


class MeetingsHome(ComingSoon):
    id = "meetings"


class LeaderTools(ComingSoon):
    id = "leaders"
    protected = True


SCREENS = [SavingsHome(), WagesHome(), SafetyHome(), MeetingsHome(), LeaderTools()]
