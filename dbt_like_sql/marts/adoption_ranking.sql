/* Each country's adoption against the EU: per source, indicator, unit, year and size class, the country's share, the EU aggregate (EU27_2020), the best member state, the country's rank among the members that published a value, and the change since the country's previous survey wave. Flagged values keep their flag; a country without a value gets no rank. */
with shares as (
    select * from staging.stg_headline_shares
),

members as (
    select * from staging.stg_eu_members
),

eu as (
    select source, indicator, unit, year, size_class, value as eu_value
    from shares
    where is_eu_aggregate
),

member_shares as (
    select s.*
    from shares as s
    inner join members as m on s.geo = m.geo
    where s.value is not null
),

ranked as (
    select
        source, indicator, unit, year, size_class, geo,
        rank() over (
            partition by source, indicator, unit, year, size_class order by value desc
        ) as member_rank
    from member_shares
),

best as (
    select
        source, indicator, unit, year, size_class,
        max(value) as best_value,
        count(*) as ranked_members_count
    from member_shares
    group by all
),

best_geo as (
    select b.source, b.indicator, b.unit, b.year, b.size_class,
        string_agg(ms.geo, '+' order by ms.geo) as best_geo
    from best as b
    inner join member_shares as ms
        on b.source = ms.source and b.indicator = ms.indicator and b.unit = ms.unit
        and b.year = ms.year and b.size_class = ms.size_class and ms.value = b.best_value
    group by all
),

with_previous as (
    select
        s.*,
        lag(s.year) over w as previous_year,
        lag(s.value) over w as previous_value
    from shares as s
    window w as (partition by s.source, s.indicator, s.unit, s.size_class, s.geo order by s.year)
),

final as (
    select
        p.source,                                          -- eurostat or genesis
        p.indicator,                                       -- harmonised indicator name
        p.unit,                                            -- unit of the shares: pct_enterprises, pct_employed or pct_recruiting_enterprises
        p.year,                                            -- survey year
        p.size_class,                                      -- size class by persons employed
        p.geo,                                             -- country or aggregate (Eurostat GEO)
        p.value,                                           -- the country's share, %
        p.flag,                                            -- source flag of the share, verbatim
        eu.eu_value,                                       -- EU27_2020 aggregate, same source, %
        round(p.value - eu.eu_value, 2) as gap_to_eu_pp,   -- share minus EU aggregate, percentage points
        bg.best_geo,                                       -- member state(s) with the highest share (ties joined by +)
        b.best_value,                                      -- the highest member-state share, %
        round(p.value - b.best_value, 2) as gap_to_best_pp,  -- share minus the best member state, percentage points
        r.member_rank,                                     -- rank among member states with a value (1 = highest, ties share a rank); null for aggregates and non-members
        b.ranked_members_count,                            -- member states with a value in this comparison
        p.previous_year,                                   -- the country's previous survey wave with this indicator
        round(p.value - p.previous_value, 2) as change_since_previous_pp  -- share minus the previous wave's share, percentage points
    from with_previous as p
    left join eu
        on p.source = eu.source and p.indicator = eu.indicator and p.unit = eu.unit
        and p.year = eu.year and p.size_class = eu.size_class
    left join ranked as r
        on p.source = r.source and p.indicator = r.indicator and p.unit = r.unit
        and p.year = r.year and p.size_class = r.size_class and p.geo = r.geo
    left join best as b
        on p.source = b.source and p.indicator = b.indicator and p.unit = b.unit
        and p.year = b.year and p.size_class = b.size_class
    left join best_geo as bg
        on p.source = bg.source and p.indicator = bg.indicator and p.unit = bg.unit
        and p.year = bg.year and p.size_class = bg.size_class
)

select * from final
