/* Tidy indicators: every observation with readable labels, the table analysts start from. One row per source, indicator, size class, NACE, country and year. */
with observations as (
    select * from staging.observations
),

labels as (
    select * from staging.stg_eurostat__labels
),

final as (
    select
        o.source,                                  -- eurostat or genesis (Destatis)
        o.dataset,                                 -- source dataset: Eurostat flow id or GENESIS table code
        o.indicator,                               -- harmonised indicator name
        o.indicator_code,                          -- the source's own indicator code
        o.size_class,                              -- 0-9, 10-49, 50-249, 250+, 10-249, 0-249, 10+, 0+
        o.nace,                                    -- economic activity (NACE Rev. 2 aggregate)
        o.geo,                                     -- country code (Eurostat GEO)
        geo_label.label_en as geo_name_en,         -- country name (English)
        geo_label.label_de as geo_name_de,         -- country name (German)
        o.unit,                                    -- unit, e.g. pct_enterprises (% of enterprises)
        o.year,                                    -- survey year
        o.value,                                   -- published value in unit; null when not published
        o.flag,                                    -- source flag, verbatim
        o.conf_status,                             -- Eurostat confidentiality status, verbatim (C = confidential)
        o.value is null and o.conf_status is not null as is_confidential,  -- withheld as confidential, not missing
        o.value is null and o.conf_status is null as is_missing,  -- no value published (see flag)
        o.last_update,                             -- source's last update of the dataset
        o.request_id                               -- landing id: meta.requests has the URL
    from observations as o
    left join labels as geo_label
        on geo_label.codelist = 'geo' and geo_label.code = o.geo
)

select * from final
