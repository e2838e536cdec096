"""The article's figures, a gap trend and the Digital Decade targets, drawn from the warehouse
with matplotlib.

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
# Labels and flags are data: a legal flag such as "$$" must print as it is, never be parsed as
# mathtext (which raised and failed the chart)
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from kmu_pipeline.catalogue import load_catalogue  # noqa: E402

SIZE_ORDER = ("0-9", "10-49", "50-249", "0-249")
SIZE_LABELS = {"0-9": "0-9", "10-49": "10-49", "50-249": "50-249", "0-249": "KMU gesamt"}
TITLES = {"abb2": "Abb. 2: Digitale Integration von KMU, {year}, in %",
          "abb3": "Abb. 3: Rahmenbedingungen der digitalen Integration, {year}, in %"}
COLOURS = ("#9ecae1", "#4292c6", "#08519c", "#fd8d3c")


KEY = ("schraffiert: Wert mit Kennzeichen der Quelle (Buchstabe hinter der Zahl); "
       "(Zeichen): ohne Zahl veröffentlicht; (vertr.): vertraulich, von der Quelle gesperrt; "
       "k. A.: kein Wert im Warehouse")


def _save(fig, path: Path, source_line: str = "", notes: str = "") -> None:
    """Write the PNG atomically; the source line and the notes go into its text chunks too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight",
                    metadata={"Software": None, "Source": source_line or None,
                              "Comment": notes or None})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; charts are for everyone
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


def citation(data: pd.DataFrame, mart: str, run_id: str | None) -> str:
    """'Quelle:' line naming each agency's tables behind the plotted rows, the mart and the run."""
    catalogue = load_catalogue()
    codes = {ds.name: ds.code for ds in catalogue.datasets}
    agency = {name: source.agency for name, source in catalogue.sources.items()}
    tables = (data[["source", "dataset"]].drop_duplicates().sort_values(["source", "dataset"])
              .groupby("source")["dataset"].apply(lambda names: " ".join(
                  codes.get(name, name) for name in names if name)))
    agencies = "; ".join(f"{agency.get(src, src)} {names}".strip()
                         for src, names in tables.items())
    run = f", Lauf {run_id}" if run_id else ""
    return f"Quelle: {agencies or 'keine Daten'}; kmu-pipeline warehouse ({mart}{run})"


def article_figure(con: duckdb.DuckDBPyConnection, figure: str, path: Path,
                   year: int = 2020, run_id: str | None = None) -> pd.DataFrame:
    """Grouped bars: one group per indicator, one bar per size class, values on the bars.

    A flagged value is hatched and carries its flag, a value published without a number shows
    its sign, and a size class with no row at all says "k. A.": nothing is dropped silently.
    """
    data = con.execute(
        "select position, indicator, label_de, label_en, size_class, value, flag, is_flagged, "
        "is_confidential, source, dataset from marts.article_figures where figure = ? and year = ? "
        "order by position, size_class", [figure, year]).fetchdf()
    labels = data.drop_duplicates("position").sort_values("position")["label_de"].tolist()
    sizes = [s for s in SIZE_ORDER if s in set(data["size_class"])]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(len(sizes), 1)
    for i, size in enumerate(sizes):
        for j, label in enumerate(labels):
            cell = data[(data.size_class == size) & (data.label_de == label)]
            x = j + (i - (len(sizes) - 1) / 2) * width
            _bar(ax, x, width, COLOURS[i % len(COLOURS)], cell)
    handles = [Patch(color=COLOURS[i % len(COLOURS)], label=SIZE_LABELS[s])
               for i, s in enumerate(sizes)]
    ax.legend(handles=handles, title="Beschäftigte", fontsize=8)
    ax.set_xticks(range(len(labels)), [_wrap(label) for label in labels], fontsize=8)
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_ylim(0, 105)
    ax.set_title(TITLES[figure].format(year=year))
    source_line = citation(data, "marts.article_figures", run_id)
    fig.text(0.01, -0.02, f"{source_line}\n{KEY}", fontsize=7, va="top")
    _save(fig, path, source_line, KEY)
    return data


def _bar(ax, x: float, width: float, colour: str, cell: pd.DataFrame) -> None:
    """One bar, or the reason there is none."""
    if cell.empty:  # no row in the warehouse for this size class
        ax.text(x, 1, "k. A.", ha="center", va="bottom", fontsize=6, rotation=90, color="grey")
        return
    value, flag, flagged = cell["value"].iloc[0], cell["flag"].iloc[0], cell["is_flagged"].iloc[0]
    if pd.isna(value):  # published without a number: say why, never draw zero
        reason = "vertr." if cell["is_confidential"].iloc[0] else flag
        ax.text(x, 1, f"({reason})", ha="center", va="bottom", fontsize=8)
        return
    ax.bar(x, value, width, color=colour, hatch="///" if flagged else None, edgecolor="white")
    text = f"{value:g} {flag}" if flagged else f"{value:g}"
    ax.text(x, value + 1, text, ha="center", va="bottom", fontsize=7)


def gap_trend(con: duckdb.DuckDBPyConnection, indicator: str, path: Path,
              source: str = "eurostat", geos: tuple[str, ...] = ("DE", "EU27_2020"),
              run_id: str | None = None) -> pd.DataFrame:
    """Large-vs-small gap in percentage points over the survey years, one line per country.

    Flagged gaps are drawn as open circles with their flags; a country without a gap in any
    year and a series with a single survey wave are named on the chart.
    """
    data = con.execute(
        "select geo, year, small_pct, large_pct, large_vs_small_pp, flags "
        "from marts.adoption_gaps where indicator = ? and source = ? and geo in "
        "(select unnest(?)) order by geo, year", [indicator, source, list(geos)]).fetchdf()
    plotted = data[data["large_vs_small_pp"].notna()]
    fig, ax = plt.subplots(figsize=(7, 4))
    for geo, rows in plotted.groupby("geo"):
        line, = ax.plot(rows["year"], rows["large_vs_small_pp"], marker="o", label=geo)
        flagged = rows[rows["flags"].notna()]
        ax.scatter(flagged["year"], flagged["large_vs_small_pp"], s=90, facecolors="white",
                   edgecolors=line.get_color(), zorder=3)
        for _, row in flagged.iterrows():
            ax.annotate(row["flags"], (row["year"], row["large_vs_small_pp"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.set_title(f"{indicator}: 250+ minus 10-49 Beschäftigte, Prozentpunkte ({source})")
    ax.set_xlabel("Jahr")
    if not plotted.empty:
        ax.legend(fontsize=8)
        ax.set_xticks(sorted(set(plotted["year"])))
    source_line = citation(pd.DataFrame({"source": [source], "dataset": [""]}),
                           "marts.adoption_gaps", run_id)
    fig.text(0.01, -0.02, source_line, fontsize=7, va="top")
    notes = _trend_notes(plotted, geos)
    fig.text(0.01, -0.07, notes, fontsize=8, va="top", color="firebrick")
    _save(fig, path, source_line, notes)
    return data


def _trend_notes(plotted: pd.DataFrame, geos: tuple[str, ...]) -> str:
    """What the lines cannot show: missing countries, single waves."""
    notes = [f"{geo}: keine Lücke berechenbar (250+ oder 10-49 fehlt)"
             for geo in geos if geo not in set(plotted["geo"])]
    waves = plotted.groupby("geo")["year"].agg(["nunique", "min"])
    notes += [f"{geo}: nur eine Erhebungswelle ({int(row['min'])}), kein Verlauf"
              for geo, row in waves.iterrows() if row["nunique"] == 1]
    return "\n".join(notes)


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


DD_TARGETS = {"digital_intensity": "Digitale Basisintensität (Ziel: mehr als 90 %)",
              "cloud": "Cloud-Computing (Ziel: 75 %)",
              "big_data_analytics": "Big Data, ab 2023 Datenanalyse (Ziel: 75 %)",
              "ai": "Künstliche Intelligenz (Ziel: 75 %)"}
DD_SIZES = {"10-49": "10-49 Beschäftigte", "10-249": "KMU (10-249)", "10+": "alle ab 10"}
DD_GEOS = {"DE": ("Deutschland", "#08519c"), "EU27_2020": ("EU-27", "#fd8d3c")}
DD_MARKERS = ("o", "s", "^")


def digital_decade(con: duckdb.DuckDBPyConnection, path: Path,
                   run_id: str | None = None) -> pd.DataFrame:
    """Germany vs EU-27 vs the best member state, one panel per 2030 target and size class,
    with the target line and the path Germany needs from its latest wave.

    Waves with another indicator code get another marker and are never joined by a line (a
    break); a target without data in the warehouse is named under the chart.
    """
    data = con.execute(
        "select 'eurostat' as source, dataset, target, indicator_code, geo, size_class, year, "
        "value, flag, target_pct, best_geo, best_value, has_break from marts.digital_decade "
        "where geo in ('DE', 'EU27_2020') and value is not null and size_class in "
        "(select unnest(?)) order by target, size_class, geo, year", [list(DD_SIZES)]).fetchdf()
    targets = [t for t in DD_TARGETS if t in set(data["target"])]
    sizes = [s for s in DD_SIZES if s in set(data["size_class"])]
    fig, axes = plt.subplots(max(len(targets), 1), max(len(sizes), 1), squeeze=False,
                             sharey=True, layout="constrained", figsize=(4.2 * max(len(sizes), 1),
                                                   3.4 * max(len(targets), 1)))
    for i, target in enumerate(targets):
        for j, size in enumerate(sizes):
            _target_panel(axes[i][j], data[(data.target == target) & (data.size_class == size)])
            axes[i][j].set_title(f"{DD_TARGETS[target]}\n{DD_SIZES[size]}", fontsize=8)
    if targets:
        axes[0][0].legend(fontsize=7, loc="lower right")
    notes = [f"{label}: keine Daten im Warehouse" for t, label in DD_TARGETS.items()
             if t not in targets]
    if data["has_break"].any():
        notes.append("Reihenbruch: Wellen mit anderem Eurostat-Indikatorcode (anderer Marker) "
                     "werden nicht verbunden")
    fig.suptitle("Digitale Dekade 2030: Deutschland, EU-27 und bester Mitgliedstaat, in %")
    source_line = citation(data, "marts.digital_decade", run_id)
    fig.text(0.01, -0.01, source_line + "\ngepunktet: nötiger Pfad von Deutschlands letzter "
             "Welle bis zum Ziel 2030; x: bester Mitgliedstaat", fontsize=7, va="top")
    fig.text(0.01, -0.05, "\n".join(notes), fontsize=8, va="top", color="firebrick")
    _save(fig, path, source_line, "\n".join(notes))
    return data


def _target_panel(ax, rows: pd.DataFrame) -> None:
    """One target and size class: a line per country and indicator code, best member, target."""
    if rows.empty:  # no value of DE or the EU for this size class
        ax.text(0.5, 0.5, "k. A.", ha="center", va="center", transform=ax.transAxes,
                color="grey")
        ax.set_xticks([])
        return
    codes = sorted(set(rows["indicator_code"]))
    for geo, (name, colour) in DD_GEOS.items():
        for k, code in enumerate(codes):
            wave = rows[(rows.geo == geo) & (rows.indicator_code == code)]
            ax.plot(wave["year"], wave["value"], color=colour, marker=DD_MARKERS[k % 3],
                    label=name if k == 0 else None)
            for _, row in wave[wave["flag"].notna()].iterrows():
                ax.annotate(row["flag"], (row["year"], row["value"]), fontsize=7)
    best = rows[rows.geo == "DE"].dropna(subset=["best_value"])
    ax.scatter(best["year"], best["best_value"], marker="x", color="black",
               label="bester Mitgliedstaat")
    for _, row in best.iterrows():
        ax.annotate(row["best_geo"], (row["year"], row["best_value"]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    target = rows["target_pct"].iloc[0]
    ax.axhline(target, color="grey", linestyle="--", linewidth=1)
    germany = rows[rows.geo == "DE"].sort_values("year")
    if not germany.empty and germany["value"].iloc[-1] < target:
        ax.plot([germany["year"].iloc[-1], 2030], [germany["value"].iloc[-1], target],
                color=DD_GEOS["DE"][1], linestyle=":")
    ax.set_xlim(min(rows["year"]) - 0.5, 2030.5)
    ax.set_ylim(0, 100)
    ax.tick_params(labelsize=7)
