"""Aggregates for the dashboard and the CLI, with small groups hidden everywhere.

``incidents`` counts safety reports by category, district and month; ``wages`` gives
daily-pay figures by role, site and month. Both hide any figure with fewer than 5 people
behind it and any figure from which a hidden one could be worked out (``suppression``).
``casework`` opens single safety reports' sealed text for staff, for the dashboard only.
``cli`` adds ``flask --app wsgi report incidents|wages [--csv]``. Imports ``models`` only
(and Flask and click in ``cli``).
"""

from .incidents import IncidentTable, incident_tables
from .suppression import TOTAL, Cell, protect
from .wages import WageRow, WageTable, wage_tables

__all__ = ["incident_tables", "IncidentTable", "wage_tables", "WageTable", "WageRow", "protect", "Cell", "TOTAL"]
