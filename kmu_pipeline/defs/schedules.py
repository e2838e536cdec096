"""The refresh job and its schedule."""


from dagster import AssetSelection, ScheduleDefinition, define_asset_job

refresh_all = define_asset_job(
    "refresh_all", selection=AssetSelection.all(),
    description="Fetch every catalogue dataset, rebuild all models, publish the warehouse",
)

# Eurostat publishes isoc_* updates through the year and GENESIS tables change a few times a
# year; a monthly refresh early on the 2nd catches them, and unchanged sources cost only
# conditional requests.
monthly_refresh = ScheduleDefinition(
    name="monthly_refresh", job=refresh_all, cron_schedule="0 5 2 * *",
    execution_timezone="Europe/Berlin",
)
