"""Chart images inline on the materialisation: copies the webserver serves, short Markdown.

The UI renders a Markdown metadata entry inline only below 1,000 characters (dagster-webserver
1.13.27: `expandSmallValues && entry.mdStr.length < 1e3`, else "[Show Markdown]"), and a chart as
a data URI is ~50 KB. The webserver serves any file under the local compute log manager's
directory as /logs/<key...>/<extension> (`download_captured_logs_endpoint`; the resolved path
must stay inside that directory, so a copy, not a symlink), and its CSP restricts no img-src.

So the step that publishes a run copies the run's published chart files to
<compute log dir>/kmu_charts/<run id>/<chart>.svg and .png, and each chart's materialisation shows
/logs/kmu_charts/<run id>/<chart>/svg and links the PNG: the picture appears once its run has
published, never for a run that published nothing, and each materialisation keeps its own. The
SVG is shown, not the PNG: the UI draws an image at its natural size, and the 300-dpi PNG is
2,700 pixels wide (the SVG 870). The copies of the last KEEP_RUNS publishing runs are kept; an
older materialisation keeps the embedded picture only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from dagster import DagsterInstance, MetadataValue

# not exported by dagster; the webserver serves /logs only for this class (and cloud ones)
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager

from kmu_pipeline.publication import publish_lock
from kmu_pipeline.warehouse import Warehouse

INLINE_DIR = "kmu_charts"
KEEP_RUNS = 20  # a run's six PNGs and SVGs take about 1.6 MB
# the UI's --path-prefix: the link is from the server's root, and stored with the materialisation
PATH_PREFIX_ENV = "KMU_DAGSTER_PATH_PREFIX"
INLINE_LIMIT = 1000  # characters: the UI's bound for inline Markdown


def _local_manager(instance: DagsterInstance) -> LocalComputeLogManager | None:
    manager = instance.compute_log_manager
    return manager if isinstance(manager, LocalComputeLogManager) else None


def inline_url(run_id: str, chart: str, extension: str = "svg") -> str:
    prefix = os.environ.get(PATH_PREFIX_ENV, "").strip().rstrip("/")
    if prefix and not prefix.startswith("/"):
        prefix = f"/{prefix}"
    return f"{prefix}/logs/{INLINE_DIR}/{run_id}/{chart}/{extension}"


def inline_entry(instance: DagsterInstance, run_id: str, chart: str,
                 title: str = "") -> MetadataValue:
    """The chart as Markdown short enough for the UI to show inline, or why there is none."""
    if _local_manager(instance) is None:
        return MetadataValue.text(
            f"inline images need Dagster's LocalComputeLogManager (this instance has "
            f"{type(instance.compute_log_manager).__name__}); the picture is in chart_embedded")
    alt = " ".join((title or chart).replace("[", "(").replace("]", ")").split())[:200]
    svg, png = inline_url(run_id, chart), inline_url(run_id, chart, "png")
    return MetadataValue.md(f"![{alt}]({svg})\n\n[PNG, 300 dpi]({png})")  # < INLINE_LIMIT


def copy_published(instance: DagsterInstance, wh: Warehouse, run_id: str,
                   pictures: Iterable[Path]) -> list[Path]:
    """Copy the charts run `run_id` just published where the webserver serves them; then keep
    the copies of the last KEEP_RUNS runs. Under the publish lock, so the files copied are this
    run's: if another run has published since, nothing is copied (the charts may be its own)."""
    manager = _local_manager(instance)
    files = [p for p in pictures if p.suffix in (".png", ".svg")]
    if manager is None or not files:
        return []
    copied = []
    with publish_lock(wh.state_dir, shared=True):
        if wh.record().run_id != run_id:
            return []
        for picture in files:
            target = Path(manager.get_captured_local_path([INLINE_DIR, run_id, picture.stem],
                                                          picture.suffix[1:]))
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(picture, partial)
            os.replace(partial, target)  # the webserver never serves half a picture
            copied.append(target)
    prune_runs(copied[0].parent.parent, KEEP_RUNS)
    return copied


def prune_runs(root: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest run folders under `root` (newest by modification)."""
    runs = sorted((p for p in root.iterdir() if p.is_dir()), key=_modified, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return runs[keep:]


def _modified(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:  # pruned meanwhile by another run's publish
        return 0
