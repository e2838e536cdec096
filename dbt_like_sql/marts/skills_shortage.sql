/* ICT skills shortage by size class, country and year: shares of enterprises employing ICT specialists, recruiting or trying to, providing ICT training, and the share of recruiters that found ICT vacancies hard to fill (the article's Fachkraeftemangel ratio). Germany (or any country) beside the EU27_2020 aggregate of the same source, year and size class. Numerators and denominators are in the column comments. */
with observations as (
    select * from staging.observations
),

eu_aggregate as (
    select * from seeds.eu_aggregate
),

skills as (
    select source, geo, year, size_class, indicator, unit, value
    from observations
    where indicator in (
        'ict_specialists_employed', 'ict_recruitment_tried', 'ict_vacancies_hard_to_fill',
        'ict_training'
    )
),

pivoted as (
    select
        source,
        geo,
        year,
        size_class,
        max(value) filter (where indicator = 'ict_specialists_employed' and unit = 'pct_enterprises')
            as employing_pct,
        max(value) filter (where indicator = 'ict_recruitment_tried' and unit = 'pct_enterprises')
            as recruiting_pct,
        max(value) filter (where indicator = 'ict_vacancies_hard_to_fill' and unit = 'pct_enterprises')
            as hard_to_fill_pct,
        max(value) filter (
            where indicator = 'ict_vacancies_hard_to_fill' and unit = 'pct_recruiting_enterprises'
        ) as hard_to_fill_of_recruiters_published_pct,
        max(value) filter (where indicator = 'ict_training' and unit = 'pct_enterprises') as training_pct
    from skills
    group by all
),

shares as (
    select
        source,              -- eurostat or genesis
        geo,                 -- country code (Eurostat GEO)
        year,                -- survey year
        size_class,          -- 0-9, 10-49, 50-249, 250+, 10-249, 10+
        employing_pct,       -- enterprises employing ICT specialists / all enterprises, %
        recruiting_pct,      -- enterprises that recruited or tried to recruit ICT specialists / all enterprises, %
        hard_to_fill_pct,    -- enterprises with hard-to-fill ICT vacancies / all enterprises, %
        training_pct,        -- enterprises providing ICT training to staff / all enterprises, %
        coalesce(
            hard_to_fill_of_recruiters_published_pct,
            round(100 * hard_to_fill_pct / nullif(recruiting_pct, 0), 1)
        ) as hard_to_fill_share_of_recruiters_pct,  -- hard-to-fill / recruiting enterprises, % (Fachkraeftemangel): as published (Eurostat unit PC_ENT_ITSPRCR2) where it is, else hard_to_fill_pct / recruiting_pct
        hard_to_fill_of_recruiters_published_pct is not null as is_hard_to_fill_share_published  -- true: published by the source; false: computed here
    from pivoted
),

eu_shares as (
    select s.*
    from shares as s
    inner join eu_aggregate as a on s.geo = a.geo
),

final as (
    select
        s.source,                              -- eurostat or genesis
        s.geo,                                 -- country code (Eurostat GEO)
        s.year,                                -- survey year
        s.size_class,                          -- 0-9, 10-49, 50-249, 250+, 10-249, 0-249, 10+
        s.employing_pct,                       -- enterprises employing ICT specialists / all enterprises, %
        s.recruiting_pct,                      -- enterprises that recruited or tried to recruit ICT specialists / all enterprises, %
        s.hard_to_fill_pct,                    -- enterprises with hard-to-fill ICT vacancies / all enterprises, %
        s.training_pct,                        -- enterprises providing ICT training to staff / all enterprises, %
        s.hard_to_fill_share_of_recruiters_pct,  -- hard-to-fill / recruiting enterprises, % (Fachkraeftemangel): as published (Eurostat unit PC_ENT_ITSPRCR2) where it is, else hard_to_fill_pct / recruiting_pct
        s.is_hard_to_fill_share_published,     -- true: published by the source; false: computed here
        eu.employing_pct as eu_employing_pct,  -- EU27_2020, same source, year and size class: employing ICT specialists, %
        eu.training_pct as eu_training_pct,    -- EU27_2020: providing ICT training, %
        eu.hard_to_fill_share_of_recruiters_pct as eu_hard_to_fill_share_of_recruiters_pct,  -- EU27_2020: hard-to-fill / recruiting enterprises, %
        round(s.employing_pct - eu.employing_pct, 2) as employing_vs_eu_pp,  -- employing ICT specialists minus EU27_2020, percentage points
        round(s.hard_to_fill_share_of_recruiters_pct - eu.hard_to_fill_share_of_recruiters_pct, 2)
            as hard_to_fill_share_vs_eu_pp  -- hard-to-fill share of recruiters minus EU27_2020, percentage points
    from shares as s
    left join eu_shares as eu
        on eu.source = s.source and eu.year = s.year and eu.size_class = s.size_class
)

select * from final
