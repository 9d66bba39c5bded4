"""``flask --app wsgi report incidents|wages [--csv] [--since YYYY-MM-DD]``.

Printed tables mark a hidden figure ``x``; CSV leaves it empty. Either way a figure is
hidden when fewer than 5 people are behind it or when it would let a hidden one be worked
out from the totals.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import click
from flask import Flask

from .incidents import CATEGORY_NAMES, IncidentTable, incident_tables
from .suppression import TOTAL
from .wages import ROLE_NAMES, WageTable, wage_tables

__all__ = ["register_cli", "incidents_csv", "incidents_text", "wages_csv", "wages_text"]

HIDDEN = "x"
NOTE = "x: hidden, because fewer than 5 people are behind it or it would reveal a hidden figure"


def _since(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def register_cli(app: Flask) -> None:
    @app.cli.group("report")
    def report() -> None:
        """Aggregates for programme reporting, small groups hidden."""

    since_option = click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                                help="Only reports from this day on.")
    csv_option = click.option("--csv", "as_csv", is_flag=True, help="CSV instead of a table.")

    @report.command("incidents")
    @csv_option
    @since_option
    def incidents(as_csv: bool, since: datetime | None) -> None:
        """Safety reports by category, district and month."""
        with app.extensions["minerline"].sessions() as session:
            tables = incident_tables(session, _since(since))
        click.echo(incidents_csv(tables) if as_csv else incidents_text(tables), nl=not as_csv)

    @report.command("wages")
    @csv_option
    @since_option
    def wages(as_csv: bool, since: datetime | None) -> None:
        """Daily pay by role, site and month: reports, median, middle half."""
        with app.extensions["minerline"].sessions() as session:
            tables = wage_tables(session, _since(since))
        click.echo(wages_csv(tables) if as_csv else wages_text(tables), nl=not as_csv)


def _show(value: int | None) -> str:
    return HIDDEN if value is None else f"{value:,}"


def _category(key: str) -> str:
    return "All categories" if key == TOTAL else CATEGORY_NAMES[key]


def _role(key: str) -> str:
    return "All roles" if key == TOTAL else ROLE_NAMES[key]


def _site(key: str) -> str:
    return "All sites" if key == TOTAL else key


def incidents_text(tables: list[IncidentTable]) -> str:
    if not tables:
        return "No safety reports yet."
    out = [NOTE]
    for table in tables:
        names = ["All districts" if d == TOTAL else d for d in table.districts]
        widths = [max(len(n), 5) for n in names]
        out.append("")
        out.append(f"Safety reports, {table.month}")
        out.append(f"{'':22}" + "".join(f"  {n:>{w}}" for n, w in zip(names, widths, strict=True)))
        for category in table.categories:
            values = [_show(table.value(category, d)) for d in table.districts]
            cells = "".join(f"  {v:>{w}}" for v, w in zip(values, widths, strict=True))
            out.append(f"{_category(category):22}" + cells)
    return "\n".join(out)


def incidents_csv(tables: list[IncidentTable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["month", "category", "district", "reports"])
    for table in tables:
        for category in table.categories:
            for district in table.districts:
                value = table.value(category, district)
                writer.writerow([table.month, category, district, "" if value is None else value])
    return buffer.getvalue()


def wages_text(tables: list[WageTable]) -> str:
    if not tables:
        return "No wage reports yet."
    out = [NOTE, "Daily pay in UGX: the median, and the middle half of what people reported."]
    for table in tables:
        out.append("")
        out.append(f"Wages, {table.month}")
        out.append(f"{'role':18}{'site':34}{'reports':>8}{'median':>10}  middle half")
        for row in table.rows:
            if row.figures is None:
                median, middle = HIDDEN, HIDDEN
            else:
                median, middle = f"{row.figures.median:,}", f"{row.figures.low:,}-{row.figures.high:,}"
            out.append(f"{_role(row.role):18}{_site(row.site)[:33]:34}{_show(row.reports):>8}{median:>10}  {middle}")
    return "\n".join(out)


def wages_csv(tables: list[WageTable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["month", "role", "site", "reports", "median", "low", "high"])
    for table in tables:
        for row in table.rows:
            f = row.figures
            writer.writerow([table.month, row.role, row.site, "" if row.reports is None else row.reports,
                             "" if f is None else f.median, "" if f is None else f.low, "" if f is None else f.high])
    return buffer.getvalue()
