"""Operator commands (``flask --app wsgi ...``) beyond the core ones in ``app.py``.

``register_cli(app)`` adds them; each command module wires its own click groups.
"""

from __future__ import annotations

from flask import Flask

from . import broadcast, savings

__all__ = ["register_cli"]


def register_cli(app: Flask) -> None:
    savings.register_cli(app)
    broadcast.register_cli(app)
