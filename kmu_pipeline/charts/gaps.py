"""The gap between large and small firms from marts.adoption_gaps: a trend for Germany and the
EU, and small multiples, one panel per member state, of the two shares over the years."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Catalogue, load_catalogue
from kmu_pipeline.charts.labels import INDICATOR_NAMES, UNIT_BASES, country
from kmu_pipeline.charts.output import Provenance, cited_tables, finish, plt

LINE_COLOURS = {"DE": "#08519c", "EU27_2020": "#fd8d3c"}
SMALL, LARGE = ("10-49", "#6baed6"), ("250+", "#08519c")


def _provenance(scope: str, indicator: str, mart: str, run_id: str | None,
                catalogue: Catalogue | None) -> Provenance:
    """The catalogue datasets that deliver `indicator` from the sources of `scope`, cited and
    watched; without one, the sources of that scope whose observations the mart holds."""
    catalogue = catalogue or load_catalogue()
    observed = [ds for ds in catalogue.of_model("observations")
                if catalogue.sources[ds.source].scope == scope]
    rows = [(ds.source, ds.name) for ds in observed if indicator in ds.indicators.values()]
    rows = rows or sorted({(ds.source, "") for ds in observed})
    line, raw = cited_tables(pd.DataFrame(rows, columns=["source", "dataset"]), catalogue)
    return Provenance(line, mart, run_id, raw)


def gap_trend(con: duckdb.DuckDBPyConnection, indicator: str, path: Path,
              scope: str = "eu", geos: tuple[str, ...] = ("DE", "EU27_2020"),
              run_id: str | None = None, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Large-vs-small gap in percentage points over the survey years, one line per country,
    from the sources of `scope` (staging.sources; eu: the survey of every member state).

    Flagged gaps are drawn as open circles with their flags; a country without a gap in any
    year and a series with a single survey wave are named on the chart.
    """
    data = con.execute(
        "select geo, year, small_pct, large_pct, large_vs_small_pp, flags "
        "from marts.adoption_gaps where indicator = ? and source in "
        "(select source from staging.sources where scope = ?) and geo in "
        "(select unnest(?)) order by geo, year", [indicator, scope, list(geos)]).fetchdf()
    plotted = data[data["large_vs_small_pp"].notna()]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for geo, rows in plotted.groupby("geo"):
        line, = ax.plot(rows["year"], rows["large_vs_small_pp"], marker="o", label=country(geo),
                        color=LINE_COLOURS.get(geo))
        flagged = rows[rows["flags"].notna()]
        ax.scatter(flagged["year"], flagged["large_vs_small_pp"], s=90, facecolors="white",
                   edgecolors=line.get_color(), zorder=3)
        for _, row in flagged.iterrows():
            ax.annotate(row["flags"], (row["year"], row["large_vs_small_pp"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    name = INDICATOR_NAMES.get(indicator, indicator)
    title = f"{name}: Abstand großer zu kleinen Unternehmen"
    ax.set_title(f"{title}\nAnteil bei 250+ minus Anteil bei 10-49 Beschäftigten, in "
                 "Prozentpunkten", loc="left", fontsize=10)
    ax.set_xlabel("Erhebungsjahr")
    ax.set_ylabel("Prozentpunkte")
    top = plotted["large_vs_small_pp"].max() if not plotted.empty else 0
    ax.set_ylim(min(0, plotted["large_vs_small_pp"].min() if not plotted.empty else 0),
                max(10, math.ceil(top / 10) * 10))  # from zero: the gap's size, not its wiggle
    ax.spines[["top", "right"]].set_visible(False)
    if not plotted.empty:
        ax.legend(fontsize=8, frameon=False)
        ax.set_xticks(sorted(set(plotted["year"])))
    notes = _trend_notes(plotted, geos)
    data.attrs["chart_metadata"] = finish(
        fig, con, path, _provenance(scope, indicator, "marts.adoption_gaps", run_id, catalogue),
        title, notes)
    return data


def _trend_notes(plotted: pd.DataFrame, geos: tuple[str, ...]) -> list[str]:
    """What the lines cannot show: missing countries, single waves."""
    notes = [f"{country(geo)}: kein Abstand berechenbar (250+ oder 10-49 fehlt)"
             for geo in geos if geo not in set(plotted["geo"])]
    waves = plotted.groupby("geo")["year"].agg(["nunique", "min"])
    notes += [f"{country(geo)}: nur eine Erhebungswelle ({int(row['min'])}), kein Verlauf"
              for geo, row in waves.iterrows() if row["nunique"] == 1]
    return notes


def gap_panels(con: duckdb.DuckDBPyConnection, indicator: str, path: Path,
               scope: str = "eu", run_id: str | None = None,
               catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Small multiples: one panel per member state (and the EU-27 first) with the share of
    small (10-49) and of large (250+) firms over the years, from the sources of `scope`; the
    shaded band is the gap.

    Member states without a value are named under the chart; with no value at all the chart
    says so in its middle instead of drawing empty frames.
    """
    data = con.execute(
        "select geo, year, unit, small_pct, large_pct, large_vs_small_pp, flags "
        "from marts.adoption_gaps where indicator = ? and source in "
        "(select source from staging.sources where scope = ?) and (geo = 'EU27_2020' or "
        "geo in (select geo from seeds.eu_members)) and (small_pct is not null or large_pct "
        "is not null) order by geo, year", [indicator, scope]).fetchdf()
    members = [g for (g,) in con.execute("select geo from seeds.eu_members").fetchall()]
    name = INDICATOR_NAMES.get(indicator, indicator)
    provenance = _provenance(scope, indicator, "marts.adoption_gaps", run_id, catalogue)
    title = f"{name}: kleine und große Unternehmen je Mitgliedstaat"
    geos = sorted(set(data["geo"]), key=lambda g: (g != "EU27_2020", country(g)))
    if not geos:
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.axis("off")
        missing = (f"keine Daten: {provenance.source_line.removeprefix('Quelle: ')} hat im "
                   "Warehouse keinen Anteil für 10-49 oder 250+ Beschäftigte")
        ax.text(0.5, 0.5, missing.replace(": ", "\n", 1), ha="center", va="center", fontsize=11,
                color="#b2182b", transform=ax.transAxes)
        ax.set_title(title, loc="left", fontsize=11)
        notes = [missing]
    else:
        fig = _draw_panels(data, geos)
        fig.suptitle(f"{title}\n{_unit_text(data)}; Fläche: Abstand 250+ zu 10-49",
                     x=0.01, ha="left", fontsize=11)
        without = sorted(country(g) for g in members if g not in set(geos))
        notes = [f"ohne Wert: {', '.join(without)}"] if without else []
    data.attrs["chart_metadata"] = finish(fig, con, path, provenance, title, notes,
                                          constrained=bool(geos))
    return data


def _unit_text(data: pd.DataFrame) -> str:
    units = sorted(set(data["unit"]))
    return ", ".join(UNIT_BASES.get(u, u) for u in units)


def _draw_panels(data: pd.DataFrame, geos: list[str]):
    cols = 6
    rows_n = math.ceil(len(geos) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(2.1 * cols, 1.8 * rows_n + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    years = sorted(set(data["year"]))
    for ax, geo in zip(axes.flat, geos, strict=False):  # spare panels stay empty
        rows = data[data.geo == geo]
        ax.fill_between(rows["year"], rows["small_pct"], rows["large_pct"], color="#deebf7")
        for column, (size, colour) in (("small_pct", SMALL), ("large_pct", LARGE)):
            ax.plot(rows["year"], rows[column], marker="o", markersize=3, color=colour,
                    label=f"{size} Beschäftigte")
        ax.set_title(country(geo), fontsize=8, fontweight="bold" if geo in ("DE", "EU27_2020")
                     else "normal")
        ax.set_ylim(0, 100)
        ax.set_xticks(years, [str(y) for y in years], fontsize=6, rotation=90)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(geos):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, frameon=False, loc="upper left")
    return fig
