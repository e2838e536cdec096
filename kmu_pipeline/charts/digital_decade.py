"""The Digital Decade 2030 targets from marts.digital_decade: Germany, the EU-27 and the best
member state, one panel per target and size class, with the target line and the path needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.charts.output import Provenance, cited_tables, finish, plt

DD_TARGETS = {"digital_intensity": "Digitale Basisintensität (Ziel: mehr als 90 %)",
              "cloud": "Cloud-Computing, mittlere oder anspruchsvolle Dienste (Ziel: 75 %)",
              "big_data_analytics": "Big Data, ab 2023 Datenanalyse (Ziel: 75 %)",
              "ai": "Künstliche Intelligenz (Ziel: 75 %)"}
DD_SIZES = {"10-49": "10-49 Beschäftigte", "10-249": "KMU (10-249)", "10+": "alle ab 10"}
DD_GEOS = {"DE": ("Deutschland", "#08519c"), "EU27_2020": ("EU-27", "#fd8d3c")}
DD_MARKERS = ("o", "s", "^")


def digital_decade(con: duckdb.DuckDBPyConnection, path: Path, run_id: str | None = None,
                   catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Germany vs EU-27 vs the best member state, one panel per 2030 target and size class,
    with the target line and the path Germany needs from its latest wave.

    Waves with another indicator code get another marker and are never joined by a line (a
    break); a target without data in the warehouse is named under the chart.
    """
    data = con.execute(
        "select source, dataset, target, indicator_code, geo, size_class, year, "
        "value, flag, target_pct, best_geo, best_value, has_break from marts.digital_decade "
        "where geo in ('DE', 'EU27_2020') and value is not null and size_class in "
        "(select unnest(?)) order by target, size_class, geo, year", [list(DD_SIZES)]).fetchdf()
    targets = [t for t in DD_TARGETS if t in set(data["target"])]
    sizes = [s for s in DD_SIZES if s in set(data["size_class"])]
    fig, axes = plt.subplots(max(len(targets), 1), max(len(sizes), 1), squeeze=False,
                             sharey=True, figsize=(4.2 * max(len(sizes), 1),
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
    title = "Digitale Dekade 2030: Deutschland, EU-27 und bester Mitgliedstaat"
    fig.suptitle(f"{title}, in % der Unternehmen")
    source_line, raw_tables = cited_tables(data, catalogue)
    provenance = Provenance(source_line, "marts.digital_decade", run_id, raw_tables)
    data.attrs["chart_metadata"] = finish(
        fig, con, path, provenance, title, notes,
        ["gepunktet: nötiger Pfad von Deutschlands letzter Welle bis zum Ziel 2030; "
         "x: bester Mitgliedstaat"], constrained=True)
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
