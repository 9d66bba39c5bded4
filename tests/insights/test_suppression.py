"""Small cells are hidden, and so is anything from which a hidden cell could be worked out."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.suppression import TOTAL, Cell, protect


def table(counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], Cell]:
    """A table with its row, column and grand totals; each report is one person."""
    rows = sorted({r for r, _ in counts})
    cols = sorted({c for _, c in counts})
    full = {(r, c): counts.get((r, c), 0) for r in rows for c in cols}
    for r in rows:
        full[(r, TOTAL)] = sum(full[(r, c)] for c in cols)
    for c in [*cols, TOTAL]:
        full[(TOTAL, c)] = sum(full[(r, c)] for r in rows)
    return {key: Cell(n, n) for key, n in full.items()}


def _rank(matrix: list[list[Fraction]]) -> int:
    m = [row[:] for row in matrix]
    rank = 0
    cols = len(m[0]) if m else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(m)) if m[i][col] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][col] != 0:
                factor = m[i][col] / m[rank][col]
                m[i] = [a - factor * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


def recoverable(cells: dict[tuple[str, str], Cell], hidden: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Hidden cells whose value follows from the shown cells and the totals (linear algebra, no shortcuts)."""
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    unknowns = sorted(hidden, key=repr)
    index = {key: i for i, key in enumerate(unknowns)}
    equations: list[list[Fraction]] = []
    inner_rows = [r for r in rows if r != TOTAL]
    inner_cols = [c for c in cols if c != TOTAL]
    for r in rows:  # each row's cells add up to its total
        eq = [Fraction(0)] * len(unknowns)
        for c in inner_cols:
            if (r, c) in index:
                eq[index[(r, c)]] += 1
        if (r, TOTAL) in index:
            eq[index[(r, TOTAL)]] -= 1
        equations.append(eq)
    for c in cols:  # each column's cells add up to its total
        eq = [Fraction(0)] * len(unknowns)
        for r in inner_rows:
            if (r, c) in index:
                eq[index[(r, c)]] += 1
        if (TOTAL, c) in index:
            eq[index[(TOTAL, c)]] -= 1
        equations.append(eq)
    base = _rank(equations)
    found = set()
    for key in unknowns:
        unit = [Fraction(0)] * len(unknowns)
        unit[index[key]] = Fraction(1)
        if _rank(equations + [unit]) == base:
            found.add(key)
    return found


def test_a_count_of_4_is_hidden_and_cannot_be_worked_out_from_the_totals():
    cells = table({("pay", "Busia"): 4, ("pay", "Mubende"): 9, ("threats", "Busia"): 7, ("threats", "Mubende"): 12})
    hidden = protect(cells)
    assert ("pay", "Busia") in hidden
    assert recoverable(cells, hidden) == set()
    # the row total minus the other cell would give it away: that cell, or the total, is hidden too
    assert ("pay", "Mubende") in hidden or ("pay", TOTAL) in hidden
    assert ("threats", "Busia") in hidden or (TOTAL, "Busia") in hidden


def test_counts_of_5_and_more_are_shown_when_nothing_small_is_near():
    cells = table({("pay", "Busia"): 5, ("pay", "Mubende"): 9, ("threats", "Busia"): 7, ("threats", "Mubende"): 12})
    assert protect(cells) == set()


def test_a_small_total_is_hidden_too():
    cells = table({("pay", "Busia"): 2, ("pay", "Mubende"): 2, ("threats", "Busia"): 7, ("threats", "Mubende"): 12})
    hidden = protect(cells)
    assert {("pay", "Busia"), ("pay", "Mubende"), ("pay", TOTAL)} <= hidden
    assert recoverable(cells, hidden) == set()


def test_zeros_are_shown_and_never_need_hiding():
    cells = table({("pay", "Busia"): 0, ("pay", "Mubende"): 9, ("threats", "Busia"): 7, ("threats", "Mubende"): 12})
    assert protect(cells) == set()


def test_a_single_row_table_still_protects_its_small_cell():
    cells = table({("pay", "Busia"): 3, ("pay", "Mubende"): 9, ("pay", "Moroto"): 6})
    hidden = protect(cells)
    assert ("pay", "Busia") in hidden and recoverable(cells, hidden) == set()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_no_hidden_cell_of_any_table_can_be_worked_out(n_rows, n_cols, data):
    rows, cols = [f"r{i}" for i in range(n_rows)], [f"c{j}" for j in range(n_cols)]
    counts = {(r, c): data.draw(st.integers(0, 12)) for r, c in product(rows, cols)}
    cells = table(counts)
    hidden = protect(cells)
    for key, cell in cells.items():
        if 0 < cell.count < 5:
            assert key in hidden, key
    assert recoverable(cells, hidden) == set(), (counts, hidden)
