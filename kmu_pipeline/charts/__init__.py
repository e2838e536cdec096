"""The article's figures, the gap charts and the Digital Decade targets, drawn from the
warehouse with matplotlib (German, as the article's readers expect; 300-dpi PNG and SVG).

Each function reads what it plots from a DuckDB connection, writes the picture and returns the
plotted table, which the Dagster assets show beside the picture; the table's
`attrs["chart_metadata"]` holds the title, source, run and stale marker written into the files.
"""

from kmu_pipeline.charts.output import finish, stale_marker  # noqa: I001  (sets the backend first)
from kmu_pipeline.charts.article import article_figure, desi_stacked
from kmu_pipeline.charts.digital_decade import DD_TARGETS, digital_decade
from kmu_pipeline.charts.gaps import gap_panels, gap_trend

__all__ = ["DD_TARGETS", "article_figure", "desi_stacked", "digital_decade", "finish",
           "gap_panels", "gap_trend", "stale_marker"]
