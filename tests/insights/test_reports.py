"""Incident counts and wage figures for programme reporting, from the CLI, small groups hidden."""

from __future__ import annotations

import csv
import io
from datetime import date

from insights import TOTAL, incident_tables, wage_tables
from insights.suppression import Cell
from models import SafetyReport, WageReport
from models.safety import code_hash
from models.wages import place_key
from tests.insights.test_suppression import recoverable

NOVEMBER = date(2026, 11, 10)
DECEMBER = date(2026, 12, 3)


def _incidents(runtime, spec: dict[tuple[str, str, date], int]) -> None:  # type: ignore[no-untyped-def]
    n = 0
    with runtime.sessions() as db, db.begin():
        for (category, district, day), count in spec.items():
            for _ in range(count):
                n += 1
                db.add(SafetyReport(code_hash=code_hash("s", str(n)), category=category, witness=False,
                                    district=district, happened="today", ongoing="no", day=day))


def _wages(runtime, spec) -> None:  # type: ignore[no-untyped-def]
    """(role, site_id, district, day, people, amount) groups."""
    with runtime.sessions() as db, db.begin():
        for g, (role, site_id, district, day, people, amount) in enumerate(spec):
            for n in range(people):
                db.add(WageReport(reporter=f"g{g}p{n}", role=role, site_id=site_id, district=district,
                                  place=place_key(site_id, district), pay_form="day", amount=amount + 100 * n,
                                  paid_full=True, gender=None, day=day))


def _csv(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


INCIDENTS = {
    ("harassment", "Mubende", NOVEMBER): 4,
    ("pay", "Mubende", NOVEMBER): 6,
    ("violence", "Mubende", NOVEMBER): 5,
    ("harassment", "Busia", NOVEMBER): 7,
    ("pay", "Busia", NOVEMBER): 5,
    ("pit", "Busia", DECEMBER): 9,
    ("pit", "Mubende", DECEMBER): 5,
}


def test_incident_counts_hide_4_show_5_and_hide_whatever_would_give_the_4_away(runtime, sites):
    _incidents(runtime, INCIDENTS)
    with runtime.sessions() as db:
        november, december = incident_tables(db)
    assert november.month == "2026-11" and december.month == "2026-12"
    assert november.value("harassment", "Mubende") is None
    hidden = {key for key, value in november.counts.items() if value is None}
    cells = {key: Cell(0, 0) for key in november.counts}  # the shape is all the check needs
    assert recoverable(cells, hidden) == set()
    assert november.value("harassment", TOTAL) is None or november.value("harassment", "Busia") is None
    assert november.value(TOTAL, "Mubende") is None or any(
        november.value(c, "Mubende") is None for c in ("pay", "violence"))
    assert december.value("pit", "Mubende") == 5 and december.value("pit", "Busia") == 9
    assert december.value(TOTAL, TOTAL) == 14 and december.value("threats", "Busia") == 0


def test_report_incidents_prints_tables_and_csv(runner, runtime, sites):
    _incidents(runtime, INCIDENTS)
    printed = runner.invoke(args=["report", "incidents"])
    assert printed.exit_code == 0, printed.output
    assert "Safety reports, 2026-11" in printed.output and "Safety reports, 2026-12" in printed.output
    harassment = next(line for line in printed.output.splitlines() if line.startswith("Sexual harassment"))
    assert " x" in harassment and " 4" not in harassment
    rows = _csv(runner.invoke(args=["report", "incidents", "--csv"]).output)
    value = {(r["month"], r["category"], r["district"]): r["reports"] for r in rows}
    assert value[("2026-11", "harassment", "Mubende")] == ""
    assert value[("2026-12", "pit", "Mubende")] == "5" and value[("2026-12", TOTAL, TOTAL)] == "14"
    assert "4" not in {v for k, v in value.items() if k[1] == "harassment" and k[0] == "2026-11"}
    since = _csv(runner.invoke(args=["report", "incidents", "--csv", "--since", "2026-12-01"]).output)
    assert {r["month"] for r in since} == {"2026-12"}


def test_wage_figures_by_role_site_and_month_hide_small_groups(runner, runtime, sites):
    kitumbi, tiira = sites["Kitumbi"], sites["Tiira"]
    _wages(runtime, [
        ("crusher", kitumbi, "Mubende", NOVEMBER, 5, 5000),
        ("crusher", tiira, "Busia", NOVEMBER, 4, 3000),
        ("panner", kitumbi, "Mubende", NOVEMBER, 6, 4000),
        ("panner", tiira, "Busia", NOVEMBER, 7, 2000),
        ("digger", None, "Amudat", NOVEMBER, 5, 9000),
    ])
    with runtime.sessions() as db:
        (table,) = wage_tables(db)
    hidden = table.row("crusher", "Tiira (Busia)")
    assert hidden.reports is None and hidden.figures is None
    shown = table.row("digger", "Other places (Amudat)")
    assert shown.reports == 5 and shown.figures.people == 5
    assert (shown.figures.low, shown.figures.median, shown.figures.high) == (9100, 9200, 9300)
    # no hidden count can be worked out from the others and the totals
    keys = {(r.role, r.site) for r in table.rows}
    roles = {k[0] for k in keys} | {TOTAL}
    sites_ = {k[1] for k in keys} | {TOTAL}
    cells = {(r, s): Cell(0, 0) for r in roles for s in sites_}
    hidden_keys = {(r.role, r.site) for r in table.rows if r.reports is None}
    assert ("crusher", "Tiira (Busia)") in hidden_keys and recoverable(cells, hidden_keys) == set()
    printed = runner.invoke(args=["report", "wages"])
    assert printed.exit_code == 0 and "Wages, 2026-11" in printed.output
    line = next(x for x in printed.output.splitlines() if x.startswith("Crusher") and "Tiira" in x)
    assert " x" in line and "3,000" not in line
    rows = _csv(runner.invoke(args=["report", "wages", "--csv"]).output)
    crusher_tiira = next(r for r in rows if r["role"] == "crusher" and r["site"] == "Tiira (Busia)")
    assert crusher_tiira["reports"] == crusher_tiira["median"] == crusher_tiira["low"] == crusher_tiira["high"] == ""
    digger = next(r for r in rows if r["role"] == "digger" and r["site"] == "Other places (Amudat)")
    assert (digger["reports"], digger["median"], digger["low"], digger["high"]) == ("5", "9200", "9100", "9300")


def test_wage_groups_count_people_not_days(runtime, sites):
    # 2 people reporting on 5 days each are 10 reports but not 5 people: hidden.
    with runtime.sessions() as db, db.begin():
        for d in range(1, 6):
            for n in range(2):
                db.add(WageReport(reporter=f"d{d}p{n}", role="carrier", site_id=None, district="Moroto",
                                  place=place_key(None, "Moroto"), pay_form="day", amount=3000, paid_full=True,
                                  gender=None, day=date(2026, 11, d)))
    with runtime.sessions() as db:
        (table,) = wage_tables(db)
    assert table.row("carrier", "Other places (Moroto)").figures is None


def test_reports_say_so_when_there_is_nothing_yet(runner):
    assert "No safety reports yet." in runner.invoke(args=["report", "incidents"]).output
    assert "No wage reports yet." in runner.invoke(args=["report", "wages"]).output
    assert runner.invoke(args=["report", "wages", "--csv"]).output.strip() == "month,role,site,reports,median,low,high"
