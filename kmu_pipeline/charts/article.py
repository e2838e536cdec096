"""The article's three figures, redrawn from the warehouse with the article's titles and words.

Abb. 1 from marts.desi_2020, Abb. 2 and 3 from marts.article_figures. Each function returns the
plotted table; its `attrs["chart_metadata"]` holds what went into the files' metadata.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from matplotlib.patches import Patch

from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.charts.labels import ARTICLE_WORDS, SIZE_LABELS, SIZE_ORDER, UNIT_BASES, country
from kmu_pipeline.charts.output import Provenance, cited_tables, finish, plt

# The article's titles (../shared/seed, "Abbildung 2" and "Abbildung 3"), the year from the data
TITLES = {"abb2": "Abb. 2: Digitale Integration von KMU, {year}",
          "abb3": "Abb. 3: Rahmenbedingungen für die digitale Integration in KMU, {year}"}
COLOURS = {"0-9": "#9ecae1", "10-49": "#4292c6", "50-249": "#08519c", "0-249": "#fd8d3c"}
FOOTNOTE_MARKS = "¹²³⁴"
AXIS_UNIT = "pct_enterprises"


def article_figure(con: duckdb.DuckDBPyConnection, figure: str, path: Path,
                   year: int = 2020, run_id: str | None = None,
                   catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Grouped bars: one group per indicator, one bar per size class that has a row.

    A flagged value is hatched and carries its flag, a value published without a number shows
    its sign, a share of another base than enterprises is footnoted, and a size class with no
    row is named under the chart: nothing is dropped silently.
    """
    data = con.execute(
        "select position, indicator, label_de, label_en, size_class, unit, value, flag, "
        "is_flagged, is_confidential, source, dataset from marts.article_figures "
        "where figure = ? and year = ? order by position, size_class", [figure, year]).fetchdf()
    indicators = data.drop_duplicates("position").sort_values("position")
    sizes = [s for s in SIZE_ORDER if s in set(data["size_class"])]
    bases = _bases(data)
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / 3
    drawn = []
    for j, indicator in enumerate(indicators["indicator"]):
        cells = [(s, data[(data.indicator == indicator) & (data.size_class == s)]) for s in sizes]
        cells = [(s, c) for s, c in cells
                 if not c.empty or (figure, indicator, s) in ARTICLE_WORDS]
        for i, (size, cell) in enumerate(cells):
            x = j + (i - (len(cells) - 1) / 2) * width
            drawn.append(_bar(ax, x, width, COLOURS[size], cell,
                              ARTICLE_WORDS.get((figure, indicator, size))))
    ticks = [_wrap(label) + bases.get(indicator, ("", ""))[0]
             for indicator, label in indicators[["indicator", "label_de"]].itertuples(index=False)]
    ax.set_xticks(range(len(ticks)), ticks, fontsize=8)
    ax.set_xlim(-0.5, max(len(ticks), 1) - 0.5)
    ax.set_ylim(0, 105)
    ax.set_ylabel(UNIT_BASES[AXIS_UNIT].replace("in %", "%", 1))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=COLOURS[s], label=SIZE_LABELS[s]) for s in sizes],
              title="Beschäftigte", fontsize=8, title_fontsize=8, frameon=False)
    title = TITLES[figure].format(year=year)
    ax.set_title(f"{title}\nin %", loc="left", fontsize=11)
    source_line, raw_tables = cited_tables(data, catalogue)
    provenance = Provenance(source_line, "marts.article_figures", run_id, raw_tables)
    footnotes = [f"{mark} {text}" for mark, text in bases.values()]
    data.attrs["chart_metadata"] = finish(fig, con, path, provenance, title,
                                          _missing(data, indicators, sizes, figure),
                                          footnotes + _key(set(drawn)))
    return data


def _bases(data: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """indicator -> (footnote mark, base) for shares that are not shares of enterprises."""
    other = data[data.unit != AXIS_UNIT].drop_duplicates("indicator").sort_values("position")
    return {ind: (FOOTNOTE_MARKS[k], UNIT_BASES.get(unit, unit))
            for k, (ind, unit) in enumerate(other[["indicator", "unit"]].itertuples(index=False))}


def _missing(data: pd.DataFrame, indicators: pd.DataFrame, sizes: list[str],
             figure: str) -> list[str]:
    """One line naming the cells the warehouse has no row for (they get no bar)."""
    cells = []
    for indicator, label in indicators[["indicator", "label_de"]].itertuples(index=False):
        have = set(data[data.indicator == indicator]["size_class"])
        missing = [s for s in sizes if s not in have and (figure, indicator, s) not in
                   ARTICLE_WORDS and s != "0-249"]
        if missing:
            cells.append(f"{label} ({', '.join(missing)})")
    labels = indicators.set_index("indicator")["label_de"]
    words = [f"{labels.get(ind, ind)}, {size} Beschäftigte: keine Zahl der Quelle; der Artikel "
             f"nennt „{text}“" for (fig, ind, size), text in ARTICLE_WORDS.items()
             if fig == figure and ind in labels
             and data[(data.indicator == ind) & (data.size_class == size)].empty]
    return words + ([f"Ohne Wert im Warehouse, daher ohne Balken: {'; '.join(cells)}"]
                    if cells else [])


def _bar(ax, x: float, width: float, colour: str, cell: pd.DataFrame,
         article_words: str | None) -> str:
    """One bar, or the reason there is none; returns which kind it drew, for the key."""
    if cell.empty:  # no row; the article describes the value in words
        ax.text(x, 1, f"„{article_words}“ (Artikel)", ha="center", va="bottom", fontsize=7,
                rotation=90, color="#444444")
        return "words"
    value, flag, flagged = cell["value"].iloc[0], cell["flag"].iloc[0], cell["is_flagged"].iloc[0]
    if pd.isna(value):  # published without a number: say why, never draw zero
        confidential = cell["is_confidential"].iloc[0]
        ax.text(x, 1, f"({'vertr.' if confidential else flag})", ha="center", va="bottom",
                fontsize=8)
        return "confidential" if confidential else "sign"
    ax.bar(x, value, width, color=colour, hatch="///" if flagged else None, edgecolor="white")
    ax.text(x, value + 1, f"{value:g} {flag}" if flagged else f"{value:g}", ha="center",
            va="bottom", fontsize=7)
    return "flagged" if flagged else "value"


KEY = {"flagged": "schraffiert: Wert mit Kennzeichen der Quelle (Buchstabe hinter der Zahl)",
       "sign": "(Zeichen): von der Quelle ohne Zahl veröffentlicht, z. B. (.) = Zahlenwert "
               "unbekannt oder geheim zu halten",
       "confidential": "(vertr.): vertraulich, von der Quelle gesperrt"}


def _key(drawn: set[str]) -> list[str]:
    """The key explains only what the picture shows."""
    return [text for kind, text in KEY.items() if kind in drawn]


def _wrap(label: str, width: int = 16) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


DIMENSION_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#fd8d3c", "#bdbdbd")
DESI_SOURCE = "Quelle: Europäische Kommission, Digital Economy and Society Index (DESI) {year}"


def desi_stacked(con: duckdb.DuckDBPyConnection, path: Path, year: int = 2020,
                 run_id: str | None = None) -> pd.DataFrame:
    """Abb. 1: DESI by country, stacked by the weighted contribution of each dimension."""
    data = con.execute(
        "select geo, dimension_position, dimension_label_de, weighted_score, overall_score "
        "from marts.desi_2020 where year = ? order by overall_score desc, dimension_position",
        [year]).fetchdf()
    order = data.drop_duplicates("geo")["geo"].tolist()
    fig, ax = plt.subplots(figsize=(11, 5.5))
    bottom = pd.Series(0.0, index=order)
    for position, rows in data.groupby("dimension_position"):
        values = rows.set_index("geo")["weighted_score"].reindex(order).fillna(0)
        ax.bar(range(len(order)), values, bottom=bottom, label=rows["dimension_label_de"].iloc[0],
               color=DIMENSION_COLOURS[(position - 1) % len(DIMENSION_COLOURS)])
        bottom += values
    ax.set_xticks(range(len(order)), [country(geo) for geo in order], rotation=90, fontsize=8)
    for tick, geo in zip(ax.get_xticklabels(), order, strict=True):
        if geo in ("DE", "EU"):
            tick.set_fontweight("bold")
    # DESI 2020 measures mostly 2019: the article titles its Abb. 1 "..., 2019"
    title = f"Abb. 1: Digitale Wettbewerbsfähigkeit im europäischen Vergleich, {year - 1}"
    ax.set_title(f"{title}\nDigital Economy and Society Index {year}, gewichtete Punkte je "
                 "Dimension", loc="left", fontsize=11)
    ax.set_ylabel("Indexpunkte (0-100)")
    ax.set_ylim(0, 80)
    ax.spines[["top", "right"]].set_visible(False)
    if not data.empty:
        ax.legend(fontsize=8, ncols=3, loc="upper right", frameon=False)
    provenance = Provenance(DESI_SOURCE.format(year=year), "marts.desi_2020", run_id,
                            ("raw.desi__desi",))
    notes = [] if not data.empty else [f"keine DESI-Daten für {year} im Warehouse"]
    data.attrs["chart_metadata"] = finish(fig, con, path, provenance, title, notes)
    return data
