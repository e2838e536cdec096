"""The only Dagster code: thin definitions over the plain functions of kmu_pipeline."""
