/* What each release changed, per dataset and indicator: one row per retrieval that changed any observation of the dataset (a release as we received it), with the counts of new, revised and withdrawn observations, the largest revision in points and the flags that changed. The first release of a dataset counts every observation as new (is_first_release). Between any two retrievals, compare versions in history.observations (README, "Revisions"). */
with observation_history as (
    select * from history.observations
),

versions as (
    select
        *,
        lag(value) over series as previous_value,
        lag(flag) over series as previous_flag,
        lag(conf_status) over series as previous_conf_status,
        lag(change) over series as previous_change
    from observation_history
    window series as (
        partition by raw_table, source, dataset, indicator, size_class, nace, geo, unit, year
        order by valid_from_retrieved
    )
),

changes as (
    select
        *,
        case when change = 'revised' and value <> previous_value then round(value - previous_value, 4) end
            as revision_pp,
        change = 'revised' and flag is distinct from previous_flag as is_flag_change,
        geo || ' ' || size_class || ' ' || year as observation
    from versions
),

releases as (
    select
        raw_table,
        valid_from_retrieved as retrieved_at,
        lag(valid_from_retrieved) over (partition by raw_table order by valid_from_retrieved)
            as previous_retrieved_at,
        valid_from_retrieved = max(valid_from_retrieved) over (partition by raw_table)
            as is_latest_release,
        valid_from_retrieved = min(valid_from_retrieved) over (partition by raw_table)
            as is_first_release
    from (select distinct raw_table, valid_from_retrieved from observation_history)
),

per_indicator as (
    select
        raw_table,
        source,
        dataset,
        indicator,
        valid_from_retrieved as retrieved_at,
        max(valid_from_agency) as agency_last_update,
        count(*) filter (where change = 'new') as new_count,
        count(*) filter (where change = 'revised') as revised_count,
        count(*) filter (where change = 'withdrawn') as withdrawn_count,
        count(*) filter (where is_flag_change) as flag_changed_count,
        arg_max(revision_pp, abs(revision_pp)) as largest_revision_pp,
        arg_max(observation, abs(revision_pp)) as largest_revision_observation,
        string_agg(
            observation || ': ' || coalesce(previous_flag, '(none)') || ' -> '
            || coalesce(flag, '(none)'), '; ' order by observation
        ) filter (where is_flag_change) as flags_changed
    from changes
    group by all
),

final as (
    select
        p.source, -- Catalogue source: eurostat or genesis
        p.dataset, -- Catalogue dataset name, e.g. isoc_cicce_use
        p.indicator, -- Harmonised indicator name
        p.raw_table, -- Raw table the observations belong to
        p.retrieved_at, -- When we retrieved this release (UTC): the history's valid_from_retrieved
        r.previous_retrieved_at, -- Our retrieval of the dataset's release before this one (UTC); NULL for its first
        p.agency_last_update, -- The agency's latest last-update stamp among the changed observations (a withdrawal: the stamp of the answer that lacked it)
        r.is_latest_release, -- The dataset's latest release that changed anything
        r.is_first_release, -- The dataset's first recorded release: every observation counts as new
        p.new_count, -- Observations first seen in this release (or back after a withdrawal)
        p.revised_count, -- Observations whose value, flag or confidentiality status changed
        p.withdrawn_count, -- Observations the release no longer holds
        p.flag_changed_count, -- Revised observations whose flag changed
        p.largest_revision_pp, -- The revision largest in absolute terms: new minus previous value, in points (percentage points for shares); NULL when no value changed
        p.largest_revision_observation, -- Where it is: geo, size class and year
        p.flags_changed -- Each flag change: geo size class year: previous -> new flag
    from per_indicator as p
    inner join releases as r
        on p.raw_table = r.raw_table and p.retrieved_at = r.retrieved_at
)

select * from final
order by dataset, indicator, retrieved_at
