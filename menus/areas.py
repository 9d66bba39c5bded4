"""Areas that later releases build. Each keeps its screen id, so the main menu needs no rework."""

from __future__ import annotations

from .common import ComingSoon

__all__ = ["SCREENS"]


class WagesHome(ComingSoon):
    id = "wages"


class SafetyHome(ComingSoon):
    id = "safety"
    sensitive = True


class MeetingsHome(ComingSoon):
    id = "meetings"


SCREENS = [WagesHome(), SafetyHome(), MeetingsHome()]
