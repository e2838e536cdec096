/* Adoption gaps by enterprise size: per source, indicator, country and year, the share in each size class and the distance in percentage points and as a ratio between micro (0-9), small (10-49), medium (50-249) and large (250+) firms. A missing or flagged input gives a missing or flagged gap, never an average. */
with shares as (
    select * from staging.stg_headline_shares
),

by_size as (
    select
        source,
        indicator,
        geo,
        unit,
        year,
        max(value) filter (where size_class = '0-9') as micro_pct,
        max(value) filter (where size_class = '10-49') as small_pct,
        max(value) filter (where size_class = '50-249') as medium_pct,
        max(value) filter (where size_class = '250+') as large_pct,
        max(value) filter (where size_class = '10-249') as sme_pct,
        -- ordered, or the text changes between runs with the same inputs
        string_agg(distinct size_class || ':' || flag, ' ' order by size_class || ':' || flag)
            filter (where flag is not null) as flags
    from shares
    group by all
),

-- Differences are rounded to 2 decimals, the most any source publishes a share with, so that
-- 62.05 - 30.62 prints as 31.43 and not as the float 31.429999999999996; nothing is lost.
final as (
    select
        source,                                           -- eurostat or genesis
        indicator,                                        -- harmonised indicator name
        geo,                                              -- country code (Eurostat GEO, EU27_2020 for the EU)
        unit,                                             -- unit of the shares: pct_enterprises, pct_employed or pct_recruiting_enterprises
        year,                                             -- survey year
        micro_pct,                                        -- 0-9 persons employed
        small_pct,                                        -- 10-49
        medium_pct,                                       -- 50-249
        large_pct,                                        -- 250+
        sme_pct,                                          -- 10-249
        round(small_pct - micro_pct, 2) as small_vs_micro_pp,       -- percentage points
        round(medium_pct - small_pct, 2) as medium_vs_small_pp,     -- percentage points
        round(large_pct - medium_pct, 2) as large_vs_medium_pp,     -- percentage points
        round(large_pct - micro_pct, 2) as large_vs_micro_pp,       -- percentage points
        round(large_pct - small_pct, 2) as large_vs_small_pp,       -- percentage points
        round(large_pct / nullif(small_pct, 0), 3) as large_to_small_ratio,  -- large share / small share
        round(medium_pct / nullif(micro_pct, 0), 3) as medium_to_micro_ratio,  -- medium share / micro share
        flags                                             -- size_class:flag of each flagged input, sorted as text, space-separated
    from by_size
)

select * from final
