"""Small-cell suppression for two-way tables with totals, complementary cells included.

A table here is every cell of a two-way table plus its margins: the row totals (column
``TOTAL``), the column totals (row ``TOTAL``) and the grand total. A cell is hidden when
fewer than ``k`` people are behind it (primary suppression). Then more cells are hidden
until no hidden cell can be worked out from what is shown (complementary suppression).

Why that test is exact: write each margin with its sign flipped and every row and every
column of the whole table sums to zero. The hidden cells are then unknowns in those line
equations, one unknown per edge of a graph whose nodes are the rows and the columns. A
hidden cell's value is pinned down exactly when its edge is a bridge of that graph (no
cycle runs through it); on a cycle, adding and taking away the same amount around it keeps
every shown figure. So hidden cells are added until the graph has no bridge, each time
closing a rectangle through a bridge with cells that are not zero, so that the amount can
move both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Hashable, Mapping

from models import MIN_PEOPLE

__all__ = ["Cell", "TOTAL", "protect", "K"]

K = MIN_PEOPLE
TOTAL = "All"

Key = tuple[Hashable, Hashable]


@dataclass(frozen=True)
class Cell:
    count: int  # what the totals add up (reports)
    people: int  # different people behind it (at least)


def protect(cells: Mapping[Key, Cell], k: int = K) -> set[Key]:
    """The cells to hide. ``cells`` must hold every (row, column) pair, margins included."""
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    missing = [(r, c) for r, c in product(rows, cols) if (r, c) not in cells]
    if missing:
        raise ValueError(f"the table lacks cells {missing[:3]}")
    hidden = {key for key, cell in cells.items() if cell.count > 0 and cell.people < k}
    while True:
        bridge = _a_bridge(hidden)
        if bridge is None:
            return hidden
        hidden |= _rectangle(bridge, rows, cols, cells, hidden)


def _a_bridge(hidden: set[Key]) -> Key | None:
    """A hidden cell whose value the shown figures fix (no cycle of hidden cells through it)."""
    for edge in sorted(hidden, key=repr):
        rest = hidden - {edge}
        if not _connected(("r", edge[0]), ("c", edge[1]), rest):
            return edge
    return None


def _connected(start: tuple, goal: tuple, edges: set[Key]) -> bool:
    links: dict[tuple, list[tuple]] = {}
    for r, c in edges:
        links.setdefault(("r", r), []).append(("c", c))
        links.setdefault(("c", c), []).append(("r", r))
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in links.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _rectangle(bridge: Key, rows: list, cols: list, cells: Mapping[Key, Cell], hidden: set[Key]) -> set[Key]:
    """The cheapest cells that close a rectangle through ``bridge``: fewest zeros, then least hidden."""
    r, c = bridge
    best: tuple | None = None
    for r2, c2 in product(rows, cols):
        if r2 == r or c2 == c:
            continue
        added = {key for key in ((r, c2), (r2, c), (r2, c2)) if key not in hidden}
        zeros = sum(1 for key in added if cells[key].count == 0)
        cost = (zeros, sum(cells[key].count for key in added), len(added))
        if best is None or cost < best[0]:
            best = (cost, added)
    if best is None:  # pragma: no cover - a table with margins always has a second row and column
        raise ValueError("a table needs at least two rows and two columns with its totals")
    return best[1]
