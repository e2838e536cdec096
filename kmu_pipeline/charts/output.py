"""What every chart ends with: the source line, the notes, the stale marker, and the files.

Each chart is written twice, as a 300-dpi PNG (print) and as an SVG beside it, each through a
temporary file and a rename so a reader never sees half a picture. The reader sees the source;
the run that drew the picture goes into the files' metadata (PNG text chunks, SVG Dublin Core)
and into the Dagster metadata, never into the picture.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # files only, no display
# Labels and flags are data: a legal flag such as "$$" must print as it is, never be parsed as
# mathtext (which raised and failed the chart)
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text (searchable, editable)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pandas as pd  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402
from matplotlib.offsetbox import AnchoredOffsetbox, TextArea, VPacker  # noqa: E402

from kmu_pipeline.catalogue import Catalogue, load_catalogue  # noqa: E402
from kmu_pipeline.schemas import relation_kind  # noqa: E402

PRINT_DPI = 300
PAD_INCHES = 0.1  # white margin around the picture (savefig's own for bbox_inches="tight")
FOOTER_GREY = "#444444"
STALE_RED = "#b2182b"


@dataclass(frozen=True)
class Provenance:
    """Where a chart's numbers come from: the reader's source line and, for the metadata, the
    mart and run, and the raw tables whose freshness the chart reports."""

    source_line: str
    mart: str
    run_id: str | None
    raw_tables: tuple[str, ...]

    @property
    def full_source(self) -> str:
        run = f", Lauf {self.run_id}" if self.run_id else ""
        return f"{self.source_line} (kmu-pipeline: {self.mart}{run})"


def cited_tables(data: pd.DataFrame, catalogue: Catalogue | None = None,
                 ) -> tuple[str, tuple[str, ...]]:
    """'Quelle: ...' naming each agency's tables behind rows with `source` and `dataset`, and
    the raw tables (raw.<source>__<dataset>) those rows were loaded into. The chart assets hand
    in the catalogue their definitions were built from (else: the process's catalogue)."""
    catalogue = catalogue or load_catalogue()
    codes = {ds.name: ds.code for ds in catalogue.datasets}
    agency = {name: source.agency for name, source in catalogue.sources.items()}
    pairs = data[["source", "dataset"]].drop_duplicates().sort_values(["source", "dataset"])
    tables = pairs.groupby("source")["dataset"].apply(
        lambda names: " ".join(codes.get(name, name) for name in names if name))
    agencies = "; ".join(f"{agency.get(src, src)} {names}".strip() for src, names in tables.items())
    raw = tuple(f"raw.{src}__{name}" for src, name in pairs.itertuples(index=False) if name)
    return f"Quelle: {agencies or 'keine Daten'}", raw


def stale_marker(con: duckdb.DuckDBPyConnection, raw_tables: tuple[str, ...]) -> str:
    """'Daten vom <date> — nicht aktualisiert' when a raw table behind the chart is stale in
    meta.dataset_status (its last refresh failed, or was skipped for want of credentials: its
    last good rows are shown); '' otherwise.

    The date is the oldest last successful refresh among the stale tables. A warehouse without
    meta.dataset_status (a hand-built test warehouse) has no freshness to report."""
    if relation_kind(con, "meta.dataset_status") is None or not raw_tables:
        return ""
    stale, since = con.execute(
        "select count(*), min(last_success_at) from meta.dataset_status "
        "where status in ('stale', 'skipped') and dataset in (select unnest(?))",
        [list(raw_tables)]).fetchone()  # skipped: not asked (no credentials), just as old
    if not stale:
        return ""
    if since is None:
        return "Daten nie erfolgreich geladen — nicht aktualisiert"
    return f"Daten vom {since:%d.%m.%Y} — nicht aktualisiert"


def finish(fig, con: duckdb.DuckDBPyConnection, path: Path, provenance: Provenance,
           title: str, notes: list[str] | None = None, key: list[str] | None = None,
           constrained: bool = False) -> dict:
    """Source line, key and notes under the chart, the stale marker over it, then both files.
    `constrained`: lay the panels out with matplotlib's constrained layout (a figure made
    without a layout engine; see _lay_out).

    Returns what went into the files' metadata, for the Dagster materialisation."""
    notes, key = [n for n in (notes or []) if n], key or []
    try:
        stale = stale_marker(con, provenance.raw_tables)
        _lay_out(fig, constrained)
        extent = _annotate(fig, provenance.source_line, key, notes, stale)
        metadata = {"title": title, "source": provenance.full_source,
                    "run_id": provenance.run_id or "", "notes": "\n".join(notes),
                    "key": "\n".join(key), "stale": stale}
        _write(fig, path, "png", extent, {
            "Software": None, "Title": title, "Source": metadata["source"],
            "Comment": metadata["notes"] or None, "Description": metadata["key"] or None,
            "Warning": stale or None})
        _write(fig, path.with_suffix(".svg"), "svg", extent, {
            "Creator": None, "Date": None, "Title": title, "Source": metadata["source"],
            "Identifier": provenance.run_id or None,
            "Description": "\n".join(filter(None, [stale, *notes, *key])) or None})
    finally:
        plt.close(fig)
    return metadata


def _lay_out(fig, constrained: bool) -> None:
    """The panels' layout, computed once. A figure with a layout engine is laid out and
    measured again before every file it is saved to (twice per file), which for the 28 panels
    of a small-multiples chart was half of a run's drawing time; the footer is placed for this
    layout, so it must not move afterwards anyway."""
    if fig.get_layout_engine() is not None:
        raise ValueError("charts are made without a layout engine: finish() lays them out once")
    if constrained:
        ConstrainedLayoutEngine().execute(fig)


def _annotate(fig, source_line: str, key: list[str], notes: list[str], stale: str):
    """Footer (source, key, notes in red) under everything drawn, the stale marker above it
    (rotated tick labels and titles included); returns the extent of the whole picture."""
    renderer = fig.canvas.get_renderer()
    drawn = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    bottom, top = fig.transFigure.inverted().transform(drawn)[:, 1]
    if stale:
        fig.text(0.01, top + 0.01, stale, ha="left", va="bottom", fontsize=10, color="white",
                 fontweight="bold", bbox={"facecolor": STALE_RED, "edgecolor": STALE_RED})
    lines = [TextArea(_lines([source_line, *key]), textprops={"fontsize": 7, "color": FOOTER_GREY})]
    if notes:
        lines.append(TextArea(_lines(notes), textprops={"fontsize": 7.5, "color": STALE_RED}))
    # one box, so the notes follow however many lines the source takes
    fig.add_artist(AnchoredOffsetbox(
        "upper left", child=VPacker(children=lines, pad=0, sep=3), pad=0, borderpad=0,
        frameon=False, bbox_to_anchor=(0.01, bottom - 0.01), bbox_transform=fig.transFigure))
    return fig.get_tightbbox(renderer).padded(PAD_INCHES)


def _lines(texts: list[str], width: int = 140) -> str:
    """Footer lines wrapped to the width of a chart."""
    return "\n".join(textwrap.fill(text, width, subsequent_indent="  ") for text in texts)


def _write(fig, path: Path, fmt: str, extent, metadata: dict) -> None:
    """One file of the chart cut to `extent` (inches), atomically (temp file in the same
    folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{fmt}")
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt, dpi=PRINT_DPI, bbox_inches=extent, metadata=metadata)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; charts are for everyone
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def same_picture(drawn: Path, published: Path) -> bool:
    """The two PNGs show the same pixels. Their metadata is left out: it names the run that
    drew each, so a chart redrawn from the same tables differs only there."""
    from PIL import Image  # matplotlib's own dependency

    if not published.exists():
        return False
    with Image.open(drawn) as new, Image.open(published) as old:
        return new.size == old.size and new.mode == old.mode and new.tobytes() == old.tobytes()
