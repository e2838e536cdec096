"""The refresh job and its schedule."""


from dagster import (
    AssetSelection,
    AutomationCondition,
    ScheduleDefinition,
    define_asset_job,
    multi_or_in_process_executor,
)

# In process by default: the steps are short and share one DuckDB build, and a process per step
# costs more in imports than it saves (the UI's multiprocess default ran the demo 18x slower
# than the CLI). The launchpad (or `kmu-pipeline run --parallel N`) may choose
# multiprocess with max_concurrent instead.
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}

refresh_all = define_asset_job(
    "refresh_all", selection=AssetSelection.all(), executor_def=multi_or_in_process_executor,
    config=IN_PROCESS,
    description="Fetch every catalogue dataset, rebuild all models, publish the warehouse",
)

# Eurostat publishes isoc_* updates through the year and GENESIS tables change a few times a
# year; a monthly refresh early on the 2nd catches them, and unchanged sources cost only
# conditional requests.
monthly_refresh = ScheduleDefinition(
    name="monthly_refresh", job=refresh_all, cron_schedule="0 5 2 * *",
    execution_timezone="Europe/Berlin",
)

# Declarative automation: a raw asset runs when its upstream/<entry> source asset is observed
# with a new data version (the agency's last-update stamp, defs/upstream.py), and the tables and
# charts downstream follow when what they read was updated. The monthly schedule stays as the
# backstop (sources that state no stamp, and runs while the automation sensor is off).
ON_UPSTREAM_CHANGE = AutomationCondition.eager()
