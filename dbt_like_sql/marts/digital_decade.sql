/* Digital Decade 2030 monitor (Decision (EU) 2022/2481, Article 4: more than 90 % of SMEs with at least a basic level of digital intensity; 75 % of enterprises using cloud computing, big data or artificial intelligence). Per target, country, size class and survey year, from the sources that cover every member state by one method only (scope eu in staging.sources: Eurostat; a national office's figures are left out, as they rank against no other member): the share, its 2030 target, the distance in points, the pace observed since the previous comparable wave (same Eurostat indicator code), the pace needed from that year to reach the target by 2030, whether on course, the year the target is reached at the observed pace, the rank among the 27 member states and the best member state. A change of indicator code between consecutive waves of one target (DII variable sets E_DI3_GELO / E_DI4_GELO; big data E_BDA -> data analytics E_DA) is a break: marked, and the pace is never computed across it. Cloud is the Digital Decade KPI isoc_cicce_use E_CC1_SI (sophisticated or intermediate cloud services, from the 2021 wave), not the article's broader E_CC (any cloud service), which is not part of the target series. Each size class is held to the target; the Decision's population is the SMEs (10-249) for digital intensity and all enterprises (10+) for the take-up target. Flags and confidentiality carried verbatim. */
with observations as (
    select * from staging.observations
),

ranking as (
    select * from marts.adoption_ranking
),

sources as (
    select * from staging.sources
),

targets as (
    -- Decision (EU) 2022/2481, Article 4, digital transformation of businesses. The take-up target
    -- counts enterprises with one or more of cloud, big data or AI; this table holds each
    -- technology to 75 % on its own, as the Commission's Digital Decade tool publishes one KPI a
    -- technology (desi_cloud, desi_da, desi_ai: digital-agenda-data/digital-agenda@44e6e9d
    -- fixtures/importconfig.json). The combined share ("at least one of") is a separate Eurostat
    -- code (isoc_eb_ai E_AI_CC1SI_DA_ANY, the tool's desi_ai_cloud_da) that no catalogue entry
    -- asks for: not in this table. Data analytics is isoc_eb_das E_DA (the tool's desi_da, "before
    -- 2023 this indicator was Big data"); big data (isoc_eb_bd E_BDA, to 2020) and E_DA are one
    -- target series with a break between them. Cloud is isoc_cicce_use E_CC1_SI (buy
    -- sophisticated or intermediate cloud services), the tool's desi_cloud (importconfig.json pk
    -- 107). It exists from the 2021 wave, so its first wave has no pace. E_CC (any cloud service
    -- bought, the article's cloud_computing, 2014 on) is a broader share: it is not in this
    -- table, and nothing is chained from it to E_CC1_SI.
    select * from (values
        ('digital_intensity_basic', 'digital_intensity', 90.0, true,
         'more than 90 % of SMEs reach at least a basic level of digital intensity'),
        ('cloud_sophisticated_intermediate', 'cloud', 75.0, false,
         '75 % of enterprises take up cloud computing services'),
        ('big_data', 'big_data_analytics', 75.0, false,
         '75 % of enterprises take up big data (data analytics from 2023)'),
        ('data_analytics', 'big_data_analytics', 75.0, false,
         '75 % of enterprises take up big data (data analytics from 2023)'),
        ('ai_any', 'ai', 75.0, false,
         '75 % of enterprises take up artificial intelligence')
    ) as t (indicator, target, target_pct, target_is_strict, target_text)
),

shares as (
    select
        t.target, o.indicator, o.indicator_code, o.source, o.dataset, o.geo, o.size_class,
        o.year, o.value, o.flag, o.conf_status, cast(t.target_pct as double) as target_pct,
        t.target_is_strict, t.target_text
    from observations as o
    inner join targets as t on o.indicator = t.indicator
    where o.source in (select source from sources where scope = 'eu')
        and o.unit = 'pct_enterprises' and o.nace = 'C10-S951_X_K'
),

waves as (
    -- published waves of one target series; the previous one may carry another indicator code
    select
        s.*,
        lag(s.year) over series as previous_year,
        lag(s.indicator_code) over series as previous_indicator_code,
        lag(s.year) over same_code as comparable_year,
        lag(s.value) over same_code as comparable_value,
        lag(s.flag) over same_code as comparable_flag
    from shares as s
    where s.value is not null
    window
        series as (
            partition by s.source, s.target, s.geo, s.size_class
            order by s.year, s.indicator_code
        ),
        same_code as (
            partition by s.source, s.target, s.indicator_code, s.geo, s.size_class
            order by s.year
        )
),

paces as (
    select
        w.*,
        coalesce(w.previous_indicator_code <> w.indicator_code, false) as has_break,
        (w.value - w.comparable_value) / (w.year - w.comparable_year) as pace_observed,
        greatest(w.target_pct - w.value, 0) as shortfall,
        case when w.target_is_strict then w.value > w.target_pct
            else w.value >= w.target_pct end as target_reached
    from waves as w
),

projected as (
    select
        p.*,
        case
            when p.target_reached then 0.0
            when p.year < 2030 then p.shortfall / (2030 - p.year)
        end as pace_needed,
        case
            when p.target_reached then p.year
            when p.pace_observed > 0
                then p.year + cast(ceil(p.shortfall / p.pace_observed) as integer)
        end as projected_year
    from paces as p
),

final as (
    select
        s.target,                      -- Digital Decade target series: digital_intensity, cloud, big_data_analytics, ai
        s.indicator,                   -- harmonised indicator name (cloud: cloud_sophisticated_intermediate, E_CC1_SI, the Digital Decade KPI; the article's broader cloud_computing, E_CC, is not in this table)
        s.indicator_code,              -- Eurostat's indic_is code of this wave
        s.dataset,                     -- catalogue dataset (Eurostat flow)
        s.geo,                         -- country or aggregate (Eurostat GEO)
        s.size_class,                  -- size class by persons employed (10-249 = SMEs without micro firms, 10+ = all enterprises the survey covers)
        s.year,                        -- survey year
        s.value,                       -- share of enterprises, %
        s.flag,                        -- Eurostat observation flag, verbatim
        s.conf_status,                 -- Eurostat confidentiality status, verbatim (C = confidential, no value)
        s.target_pct,                  -- 2030 target, % of enterprises
        s.target_text,                 -- the target as the Decision states it (digital intensity: more than 90 %, so exactly 90 is not reached)
        round(s.target_pct - s.value, 2) as distance_pp,  -- target minus share, percentage points (negative = beyond the target)
        p.target_reached,              -- the share meets the target (more than 90 for digital intensity, at least 75 otherwise)
        p.previous_year,               -- previous published wave of this target series, whatever its indicator code
        p.previous_indicator_code,     -- indicator code of that wave
        p.has_break,                   -- true when the previous wave has another indicator code: not compared, never bridged
        case when p.has_break then
            p.previous_indicator_code || ' (' || p.previous_year || ') -> ' || s.indicator_code
            || ' (' || s.year || '): different survey concept or variable set, not compared; '
            || coalesce('pace from ' || p.comparable_year || ' (' || s.indicator_code || ')',
                        'no earlier wave with ' || s.indicator_code || ', no pace')
        end as break_note,             -- what the break is and where the pace comes from instead
        p.comparable_year,             -- last earlier wave with the same indicator code: the pace is measured from it
        round(p.pace_observed, 2) as pace_observed_pp_per_year,  -- (share - share at comparable_year) / years between, percentage points a year; null without a comparable wave
        nullif(concat_ws(' ', case when s.flag is not null then s.year || ':' || s.flag end,
            case when p.comparable_flag is not null
                then p.comparable_year || ':' || p.comparable_flag end), '') as pace_flags,  -- flags of the two waves the pace is computed from (year:flag)
        round(p.pace_needed, 2) as pace_needed_pp_per_year,  -- shortfall / (2030 - year): percentage points a year needed to reach the target by 2030; 0 once reached; null from 2030 on
        case
            when p.target_reached then true
            when p.pace_observed is not null and p.pace_needed is not null
                then p.pace_observed >= p.pace_needed
        end as is_on_course,           -- observed pace at least the pace needed (true once reached); null without a pace
        p.projected_year,              -- first year the target is reached at the observed pace (year + ceil(shortfall / pace)); the survey year once reached; null when the pace is not positive or unknown
        r.member_rank,                 -- rank among the member states with a value this year and size class (1 = highest, ties share a rank; marts.adoption_ranking); null for aggregates and non-members
        r.ranked_members_count,        -- member states ranked (27 when every member published a value)
        r.best_geo,                    -- member state(s) with the highest share (ties joined by +)
        r.best_value,                  -- the highest member-state share, %
        r.eu_value,                    -- EU27_2020 aggregate for the same year and size class, %
        s.source                       -- catalogue source of the share (scope eu in staging.sources)
    from shares as s
    left join projected as p
        on s.source = p.source and s.target = p.target and s.indicator_code = p.indicator_code
        and s.geo = p.geo and s.size_class = p.size_class and s.year = p.year
    left join ranking as r
        on r.source = s.source and s.indicator = r.indicator and r.unit = 'pct_enterprises'
        and s.size_class = r.size_class and s.year = r.year and s.geo = r.geo
)

select * from final
