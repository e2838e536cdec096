/* German enterprises that do not use a technology, in counts: a share from the ICT survey (Destatis GENESIS 52911, or Eurostat for DE) applied to the number of enterprises in the enterprise register (GENESIS 52111-0001, all WZ 2008 sections summed) of the same size class, taking the register year closest to the survey year (the earlier one on a tie). Register size classes count dependent employees, survey classes persons employed: the counts are an approximation and say so in register_year and the column comments. */
with observations as (
    select * from staging.observations
),

sources as (
    select * from staging.sources
),

register as (
    -- the national statistics office's register (scope national in staging.sources)
    select size_class, year as register_year, sum(value) as enterprises
    from observations
    where source in (select source from sources where scope = 'national')
        and indicator = 'enterprises' and unit = 'enterprises_count' and geo = 'DE'
    group by all
),

headline as (
    select * from staging.stg_headline_shares
),

shares as (
    select source, indicator, size_class, year, value, flag
    from headline
    where geo = 'DE' and unit = 'pct_enterprises'
),

matched as (
    select
        s.*,
        r.register_year,
        r.enterprises,
        row_number() over (
            partition by s.source, s.indicator, s.size_class, s.year
            order by abs(r.register_year - s.year), r.register_year
        ) as nearest
    from shares as s
    inner join register as r on s.size_class = r.size_class
),

final as (
    select
        source,                                                  -- source of the share: genesis or eurostat
        indicator,                                               -- harmonised indicator name
        size_class,                                              -- size class (survey: persons employed; register: dependent employees)
        year,                                                    -- survey year of the share
        value as share_pct,                                      -- share of enterprises using the technology, %
        flag,                                                    -- source flag of the share, verbatim
        register_year,                                           -- register year used (closest to the survey year)
        enterprises::bigint as enterprises_count,                -- enterprises in the register, all WZ 2008 sections
        round(enterprises * value / 100)::bigint as firms_using_count,  -- enterprises x share
        round(enterprises * (100 - value) / 100)::bigint as firms_behind_count  -- enterprises x (100 - share): firms without the technology
    from matched
    where nearest = 1
)

select * from final
