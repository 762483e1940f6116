"""One layout for every terminal table evalkit prints: numbers and decisions are never cut, and a
table too wide for the terminal leaves out whole optional columns, with a note naming them.

Left to itself rich ellipsises a cell ("step 2…", "0.7…") or crops columns off the right edge without
a word. Here the widths are chosen before rich lays the table out, for the width it is rendered at:
a whole column (a number, a decision, a step label) gets its widest line and never wraps; text
columns share the rest and fold; when even the narrowest layout is too wide, the table's optional
column groups go, first declared first. An ASCII console gets evalkit's ASCII stand-ins before
measuring (evalkit.ascii_fallback), so the table stays aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from evalkit.ascii_fallback import ascii_text

TEXT_MIN_WIDTH = 10  # a text column keeps this much width (or its widest line) before columns are left out
REPORT_HINT = "a terminal of {needed} columns (COLUMNS={needed}), or --format markdown / -o FILE"
TERMINAL_HINT = "a terminal of {needed} columns (COLUMNS={needed})"
REPORT_STYLE: dict[str, Any] = {"caption_justify": "left", "header_style": "bold", "box": box.SIMPLE_HEAD,
                                "pad_edge": False, "show_edge": False, "collapse_padding": True}


@dataclass(frozen=True)
class Column:
    """A column: `whole` for numbers, decisions and labels (never wrapped or cut), else folding text."""

    header: str
    whole: bool = False
    justify: str = "left"
    style: str = ""


Cell = tuple[str, str]  # (text, rich style)
BREAK = "\x1f"  # in a whole cell: where its line may break when the column is narrower than the line


@dataclass(frozen=True)
class FittedTable:
    """A rich renderable: the table laid out for the width it is rendered at (see the module doc).

    optional: groups of column indexes that may be left out, the first group first; hint: how to see
    them, with {needed} for the width that shows every column.
    """

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    optional: tuple[tuple[int, ...], ...] = ()
    caption: str | None = None
    row_styles: tuple[str, ...] = ()
    hint: str = REPORT_HINT
    style: dict[str, Any] = field(default_factory=lambda: dict(REPORT_STYLE))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        show: Callable[[str], str] = ascii_text if options.ascii_only else str
        headers = [show(c.header) for c in self.columns]
        cells = [[(show(text), style) for text, style in row] for row in self.rows]
        bounds = [_bounds(c.whole, headers[i], [row[i][0] for row in cells]) for i, c in enumerate(self.columns)]
        room = _room(console, options, self.style)
        kept, dropped = _keep(bounds, self.optional, room)
        fits = sum(bounds[i][0] for i in kept) <= room(len(kept))
        widths = _share([bounds[i] for i in kept], room(len(kept))) if fits else None
        yield self._table(kept, widths, headers, cells, show)
        if dropped:
            needed = sum(b[1] for b in bounds) + options.max_width - room(len(bounds))
            names = ", ".join(" + ".join(headers[i].replace("\n", " ") for i in group) for group in dropped)
            yield Text(show(f"Left out to fit {options.max_width} columns: {names}. To see them: "
                            + self.hint.format(needed=needed) + "."), style="dim")

    def _table(self, kept: list[int], widths: list[int] | None, headers: list[str],
               cells: list[list[Cell]], show: Callable[[str], str]) -> Table:
        out = Table(title=Text(show(self.title), style="bold"),
                    caption=Text(show(self.caption)) if self.caption else None, **self.style)
        for place, index in enumerate(kept):
            column = self.columns[index]
            width = widths[place] if widths is not None else None
            # a whole column's width is at least its widest line, so its cells never wrap
            out.add_column(Text(headers[index]), justify=column.justify,  # type: ignore[arg-type]
                           style=column.style or None, overflow="fold", width=width)
        for number, row in enumerate(cells):
            style = self.row_styles[number] if number < len(self.row_styles) else None
            out.add_row(*(Text(_reflow(row[i][0], widths[place] if widths else 0), style=row[i][1])
                          for place, i in enumerate(kept)), style=style or None)
        return out


def _bounds(whole: bool, header: str, texts: list[str]) -> tuple[int, int]:
    """(narrowest, natural) width of a column: a whole column's widest line (its header may wrap at
    words); a text column folds down to TEXT_MIN_WIDTH."""
    lines = [cell_len(line.replace(BREAK, " ")) for text in texts for line in text.split("\n")] or [0]
    natural = max(lines + [cell_len(line) for line in header.split("\n")])
    if whole:
        pieces = [cell_len(piece) for text in texts for line in text.split("\n") for piece in line.split(BREAK)]
        return max(pieces + [cell_len(word) for word in header.split()] + [0]), natural
    return min(natural, TEXT_MIN_WIDTH), natural


def _reflow(text: str, width: int) -> str:
    """A whole cell's lines, each broken at its BREAK points only where it is wider than `width`."""
    out = []
    for line in text.split("\n"):
        pieces = line.split(BREAK)
        current = pieces[0]
        for piece in pieces[1:]:
            if cell_len(current) + 1 + cell_len(piece) <= width:
                current += " " + piece
            else:
                out.append(current)
                current = piece
        out.append(current)
    return "\n".join(out)


def _room(console: Console, options: ConsoleOptions, style: dict[str, Any]) -> Callable[[int], int]:
    """For n columns, the width left for their content once borders and padding are drawn."""
    def room(n: int) -> int:
        probe = Table(**style)
        for _ in range(n):
            probe.add_column(width=1)
        overhead = Measurement.get(console, options.update_width(1_000_000), probe).maximum - n
        return options.max_width - overhead
    return room


def _keep(bounds: list[tuple[int, int]], optional: tuple[tuple[int, ...], ...],
          room: Callable[[int], int]) -> tuple[list[int], list[tuple[int, ...]]]:
    """The columns kept and the optional groups left out (first declared first) so the narrowest
    layout fits; a group left out early comes back when a later one made room for it."""
    def fits(columns: list[int]) -> bool:
        return sum(bounds[i][0] for i in columns) <= room(len(columns))

    kept, dropped = list(range(len(bounds))), []
    for group in optional:
        if fits(kept):
            break
        kept = [i for i in kept if i not in group]
        dropped.append(group)
    for group in reversed(list(dropped)):
        back = sorted(kept + list(group))
        if fits(back):
            kept = back
            dropped.remove(group)
    return kept, dropped


def _share(bounds: list[tuple[int, int]], room: int) -> list[int]:
    """Widths from each column's narrowest up towards its natural width, the spare shared evenly."""
    widths = [low for low, _ in bounds]
    spare = room - sum(widths)
    growing = [i for i, (low, high) in enumerate(bounds) if low < high]
    while spare > 0 and growing:
        for i in list(growing):
            if spare == 0:
                break
            widths[i] += 1
            spare -= 1
            if widths[i] >= bounds[i][1]:
                growing.remove(i)
    return widths
