/* The headline shares that adoption comparisons read: observations in a percentage unit (pct_...) of the economic activity that stands for all enterprises in each source (seeds.headline_nace: Eurostat's C10-S951_X_K, Destatis's TOTAL), with the EU aggregate (seeds.eu_aggregate) marked. One row per such observation; NACE breakdowns and counts are left out. */
with observations as (
    select * from staging.observations
),

headline_nace as (
    select * from seeds.headline_nace
),

eu_aggregate as (
    select * from seeds.eu_aggregate
),

final as (
    select
        o.source,                                 -- eurostat or genesis
        o.indicator,                              -- harmonised indicator name
        o.unit,                                   -- pct_enterprises, pct_employed or pct_recruiting_enterprises
        o.year,                                   -- survey year
        o.size_class,                             -- 0-9, 10-49, 50-249, 250+, 10-249, 0-249, 10+, 0+
        o.geo,                                    -- country or aggregate (Eurostat GEO)
        o.value,                                  -- the share, %; null when not published (see flag)
        o.flag,                                   -- source flag, verbatim
        a.geo is not null as is_eu_aggregate      -- the EU aggregate countries are compared with (EU27_2020)
    from observations as o
    inner join headline_nace as h on o.nace = h.nace
    left join eu_aggregate as a on o.geo = a.geo
    where o.unit like 'pct_%'
)

select * from final
