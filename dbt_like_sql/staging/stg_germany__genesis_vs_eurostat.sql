/* Germany in both sources: Destatis (GENESIS 52911) and Eurostat values side by side wherever both publish the same indicator, size class, unit and year, with their difference. The two are told apart by their scope (staging.sources): the national statistics office's values and those of the survey of every EU member state. They differ by definition (Eurostat's headline aggregate C10-S951_X_K leaves out the financial sector, Destatis publishes the total economy) and by rounding (the Destatis figures are whole percent); the check stg_germany_sources_agree warns when they are far apart. */
with observations as (
    select * from staging.observations
),

sources as (
    select * from staging.sources
),

national as (
    -- Destatis: the total economy
    select dataset, indicator, size_class, unit, year, value, flag
    from observations
    where source in (select source from sources where scope = 'national')
        and geo = 'DE' and nace = 'TOTAL'
),

eu_survey as (
    -- Eurostat: the headline aggregate without the financial sector
    select dataset, indicator, size_class, unit, year, value, flag
    from observations
    where source in (select source from sources where scope = 'eu')
        and geo = 'DE' and nace = 'C10-S951_X_K'
),

final as (
    select
        g.indicator,                                 -- harmonised indicator name
        g.size_class,                                -- size class by persons employed
        g.unit,                                      -- harmonised unit of both values
        g.year,                                      -- survey year
        g.value as genesis_value,                    -- Destatis value (GENESIS), in unit
        g.flag as genesis_flag,                      -- GENESIS sign or quality flag, verbatim
        g.dataset as genesis_dataset,                -- catalogue dataset of the Destatis value
        e.value as eurostat_value,                   -- Eurostat value, in unit
        e.flag as eurostat_flag,                     -- Eurostat flag, verbatim
        e.dataset as eurostat_dataset,               -- catalogue dataset of the Eurostat value
        round(g.value - e.value, 2) as difference    -- Destatis minus Eurostat, in unit (points for shares)
    from national as g
    inner join eu_survey as e
        on g.indicator = e.indicator
        and g.size_class = e.size_class
        and g.unit = e.unit
        and g.year = e.year
)

select * from final
