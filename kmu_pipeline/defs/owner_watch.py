"""Imported by a parallel run's forkserver (execution.PRELOAD): it ends with the CLI too."""

from kmu_pipeline.defs.execution import watch_owner

watch_owner()
