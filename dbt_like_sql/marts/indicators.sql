/* Tidy indicators: every observation with readable labels, the table analysts start from. One row per source, indicator, size class, NACE, country and year. */
with observations as (
    select * from staging.observations
),

labels as (
    select * from staging.stg_eurostat__labels
),

final as (
    select
        o.source,
        o.dataset,
        o.indicator,                               -- harmonised indicator name
        o.indicator_code,
        o.size_class,                              -- 0-9, 10-49, 50-249, 250+, 10-249, 10+
        o.nace,
        o.geo,
        geo_label.label_en as geo_name_en,         -- country name (English)
        geo_label.label_de as geo_name_de,         -- country name (German)
        o.unit,
        o.year,
        o.value,
        o.flag,                                    -- source flag, verbatim
        o.value is null as is_missing,             -- no value published (see flag)
        o.last_update,
        o.request_id                               -- landing id: meta.requests has the URL
    from observations as o
    left join labels as geo_label
        on geo_label.codelist = 'geo' and geo_label.code = o.geo
)

select * from final
