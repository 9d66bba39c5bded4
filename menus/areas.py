"""Areas that later releases build. Each keeps its screen id, so the main menu needs no rework.

None is left: meetings are in ``menus/meetings.py``.
"""

from __future__ import annotations

from .engine import Screen

__all__ = ["SCREENS"]

SCREENS: list[Screen] = []
