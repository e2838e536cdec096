"""The article's figures and a gap trend, drawn from the warehouse with matplotlib.

Each function reads what it plots from a DuckDB connection, writes a PNG (via a temporary file
and a rename, so a reader never sees half a picture) and returns the plotted table, which the
Dagster assets show beside the picture.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pandas as pd  # noqa: E402

SIZE_ORDER = ("0-9", "10-49", "50-249", "0-249")
SIZE_LABELS = {"0-9": "0-9", "10-49": "10-49", "50-249": "50-249", "0-249": "KMU gesamt"}
TITLES = {"abb2": "Abb. 2: Digitale Integration von KMU, {year}, in %",
          "abb3": "Abb. 3: Rahmenbedingungen der digitalen Integration, {year}, in %"}
COLOURS = ("#9ecae1", "#4292c6", "#08519c", "#fd8d3c")


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", metadata={"Software": None})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; charts are for everyone
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


def article_figure(con: duckdb.DuckDBPyConnection, figure: str, path: Path,
                   year: int = 2020) -> pd.DataFrame:
    """Grouped bars: one group per indicator, one bar per size class; flagged cells annotated."""
    data = con.execute(
        "select position, label_de, size_class, value, flag, source from marts.article_figures "
        "where figure = ? and year = ? order by position, size_class", [figure, year]).fetchdf()
    labels = data.drop_duplicates("position").sort_values("position")["label_de"].tolist()
    sizes = [s for s in SIZE_ORDER if s in set(data["size_class"])]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(len(sizes), 1)
    legend = {}
    for i, size in enumerate(sizes):
        for j, label in enumerate(labels):
            cell = data[(data.size_class == size) & (data.label_de == label)]
            if cell.empty:
                continue
            x = j + (i - (len(sizes) - 1) / 2) * width
            value, flag = cell["value"].iloc[0], cell["flag"].iloc[0]
            if pd.isna(value):  # published without a number: say so, never draw zero
                ax.text(x, 1, f"({flag})", ha="center", va="bottom", fontsize=8)
                continue
            legend[SIZE_LABELS[size]] = ax.bar(x, value, width, color=COLOURS[i % len(COLOURS)])
            ax.text(x, value + 1, f"{value:g}", ha="center", va="bottom", fontsize=7)
    ax.legend(legend.values(), legend.keys(), title="Beschäftigte", fontsize=8)
    ax.set_xticks(range(len(labels)), [_wrap(label) for label in labels], fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_title(TITLES[figure].format(year=year))
    sources = ", ".join(sorted(set(data["source"])))
    fig.text(0.01, -0.02, f"Quelle: kmu-pipeline warehouse (marts.article_figures; {sources})",
             fontsize=7)
    _save(fig, path)
    return data


def gap_trend(con: duckdb.DuckDBPyConnection, indicator: str, path: Path,
              source: str = "eurostat") -> pd.DataFrame:
    """Large-vs-small gap in percentage points over the survey years, one line per country."""
    data = con.execute(
        "select geo, year, large_vs_small_pp from marts.adoption_gaps where indicator = ? "
        "and source = ? and large_vs_small_pp is not null order by geo, year",
        [indicator, source]).fetchdf()
    fig, ax = plt.subplots(figsize=(7, 4))
    for geo, rows in data.groupby("geo"):
        ax.plot(rows["year"], rows["large_vs_small_pp"], marker="o", label=geo)
    if data.empty:
        ax.text(0.5, 0.5, "no gap published for two size classes", ha="center",
                transform=ax.transAxes)
    ax.set_title(f"{indicator}: 250+ minus 10-49, percentage points ({source})")
    ax.set_xlabel("year")
    ax.legend(fontsize=8)
    _save(fig, path)
    return data


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


def desi_stacked(con: duckdb.DuckDBPyConnection, path: Path, year: int = 2020) -> pd.DataFrame:
    """Abb. 1: DESI by country, stacked by the weighted contribution of each dimension."""
    data = con.execute(
        "select geo, dimension_position, dimension_label_de, weighted_score, overall_score "
        "from marts.desi_2020 where year = ? order by overall_score desc, dimension_position",
        [year]).fetchdf()
    order = data.drop_duplicates("geo")["geo"].tolist()
    fig, ax = plt.subplots(figsize=(11, 4.8))
    bottom = pd.Series(0.0, index=order)
    for position, rows in data.groupby("dimension_position"):
        values = rows.set_index("geo")["weighted_score"].reindex(order).fillna(0)
        ax.bar(order, values, bottom=bottom, label=rows["dimension_label_de"].iloc[0],
               color=DIMENSION_COLOURS[(position - 1) % len(DIMENSION_COLOURS)])
        bottom += values
    for tick in ax.get_xticklabels():
        if tick.get_text() in ("DE", "EU"):
            tick.set_fontweight("bold")
    ax.set_title(f"Abb. 1: Digital Economy and Society Index (DESI) {year}")
    if not data.empty:
        ax.legend(fontsize=8, ncols=3, loc="upper right")
    ax.tick_params(axis="x", labelsize=8)
    fig.text(0.01, -0.02, "Quelle: European Commission, DESI; kmu-pipeline warehouse "
             "(marts.desi_2020)", fontsize=7)
    _save(fig, path)
    return data
