"""Chart assets: PNG files beside the warehouse, shown in the Dagster UI as metadata.

A chart is drawn into the run's build folder and reaches data/charts only when the run
publishes, right after the warehouse it was drawn from: a run that fails or is killed never
leaves a picture naming it. The materialisation shows the published picture inline ("chart",
see inline_charts.py) and embeds the picture as drawn ("chart_embedded", behind "[Show
Markdown]"): that one needs no webserver route, survives the pruning of inline copies and
shows what a run that never published drew.
"""

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, MetadataValue, asset

from kmu_pipeline import charts
from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.charts.output import same_picture
from kmu_pipeline.defs.inline_charts import inline_entry
from kmu_pipeline.defs.metadata import OWNERS, code_version
from kmu_pipeline.defs.publish import conclude
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.defs.schedules import ON_UPSTREAM_CHANGE
from kmu_pipeline.defs.sql import table_key

# the drawing code of every chart is charts.py: one version for all of them
CHARTS_VERSION = code_version(Path(charts.__file__).read_text(encoding="utf-8"))

CHARTS = {
    # asset name -> (file name, mart it reads, drawing function(con, path, **cited), where
    # cited holds the run id and the catalogue the chart cites its sources from)
    "abb1_desi_2020": ("abb1_desi_2020.png", "marts.desi_2020",
                       lambda con, path, run_id, catalogue: charts.desi_stacked(
                           con, path, run_id=run_id)),  # cites the Commission's index
    "abb2_digital_integration": (
        "abb2_digital_integration.png", "marts.article_figures",
        lambda con, path, **cited: charts.article_figure(con, "abb2", path, **cited)),
    "abb3_framework_conditions": (
        "abb3_framework_conditions.png", "marts.article_figures",
        lambda con, path, **cited: charts.article_figure(con, "abb3", path, **cited)),
    "cloud_gap_trend": (
        "cloud_gap_trend.png", "marts.adoption_gaps",
        lambda con, path, **cited: charts.gap_trend(con, "cloud_computing", path, **cited)),
    "digital_decade_targets": (
        "digital_decade_targets.png", "marts.digital_decade",
        lambda con, path, **cited: charts.digital_decade(con, path, **cited)),
    "ai_gap_by_member_state": (
        "ai_gap_by_member_state.png", "marts.adoption_gaps",
        lambda con, path, **cited: charts.gap_panels(con, "ai_any", path, **cited)),
}


def build_chart_asset(name: str, file_name: str, mart: str, draw: Callable,
                      catalogue: Catalogue) -> AssetsDefinition:
    @asset(key=["charts", name], deps=[table_key(mart)], group_name="charts",
           kinds={"matplotlib"}, description=f"{file_name}, drawn from {mart}",
           owners=OWNERS, code_version=CHARTS_VERSION,
           automation_condition=ON_UPSTREAM_CHANGE)
    def _chart(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator:
        wh = warehouse.get()
        staged = wh.build_charts_dir(context.run.run_id) / file_name
        with wh.connect_build(context.run.run_id, counts_as_change=False) as con:
            data = draw(con, staged, run_id=context.run.run_id, catalogue=catalogue)
        if not same_picture(staged, wh.charts_dir / file_name):
            wh.note_change(context.run.run_id, f"charts/{file_name}")
        image = base64.b64encode(staged.read_bytes()).decode()
        chart_metadata = data.attrs.get("chart_metadata", {})
        metadata = {
            "chart": inline_entry(context.instance, context.run.run_id, staged.stem,
                                  chart_metadata.get("title", "")),
            "path": MetadataValue.path(str(wh.charts_dir / file_name)),  # once published
            "chart_embedded": MetadataValue.md(f"![{name}](data:image/png;base64,{image})"),
            "plotted_values": MetadataValue.md(  # NULL shown empty, not as nan
                data.head(60).astype(object).where(data.head(60).notna(), "")
                .to_markdown(index=False)),
            "rows_plotted": len(data),
            # title, source with run, stale marker: what the PNG and SVG carry as metadata
            **{key: MetadataValue.text(text)
               for key, text in chart_metadata.items() if text},
        }
        yield from conclude(context, warehouse, metadata)

    return _chart


def chart_assets(catalogue: Catalogue) -> list[AssetsDefinition]:
    return [build_chart_asset(name, *spec, catalogue) for name, spec in CHARTS.items()]
