/* The Digital Economy and Society Index 2020 (the article's Abb. 1): per EU28 country and dimension, the published score, its weighted contribution to the overall index and the country's rank, the overall index and rank, and for dimension 4 (integration of digital technology) the score recomputed by staging.stg_desi__integration. Ranks count the 28 member states of 2020, never the EU aggregate. */
with desi as (
    select * from raw.desi__desi
),

recomputed as (
    select * from staging.stg_desi__integration
),

dimensions as (
    select * from seeds.desi_dimensions
),

scores as (
    select
        s.ref_area as geo, s.time_period as year, s.breakdown as dimension, s.value as score,
        w.value as weighted_score
    from desi as s
    inner join desi as w
        on w.ref_area = s.ref_area and w.time_period = s.time_period and w.indicator = 'desi'
        and w.unit_measure = 'egov_score' and w.breakdown = s.breakdown
    where s.indicator = 'desi_sliders' and s.time_period = 2020
),

overall as (
    select geo, year, sum(weighted_score) as overall_score
    from scores
    group by all
),

final as (
    select
        s.geo,                                             -- country code as DESI writes it (EL, UK; EU = EU28 aggregate)
        s.year,                                            -- DESI edition year (2020)
        s.dimension,                                       -- DESI dimension id (desi_1_conn ... desi_5_dps)
        d.position as dimension_position,                  -- 1-5, the order of the dimensions in DESI
        d.label_en as dimension_label,                     -- dimension name (English)
        d.label_de as dimension_label_de,                  -- dimension name (German, as in the article)
        round(s.score, 4) as score,                        -- published dimension score, 0-100
        round(s.weighted_score, 4) as weighted_score,      -- weighted contribution to the overall index (the stacked bar of Abb. 1)
        case when s.geo <> 'EU' then rank() over (
            partition by s.dimension, s.geo = 'EU' order by s.score desc
        ) end as dimension_rank,                           -- rank among the 28 countries (1 = best); null for the EU aggregate
        round(o.overall_score, 4) as overall_score,        -- DESI overall index = sum of weighted contributions
        case when s.geo <> 'EU' then dense_rank() over (
            partition by s.dimension, s.geo = 'EU' order by o.overall_score desc
        ) end as overall_rank,                             -- rank of the overall index among the 28 countries
        r.integration_score as recomputed_score,           -- dimension 4 only: recomputed from raw indicators
        round(r.integration_score - s.score, 4) as recomputed_minus_published,  -- dimension 4 only: recomputed minus published, points
        r.imputed_inputs_count                             -- dimension 4 only: inputs taken from published contributions
    from scores as s
    inner join dimensions as d on s.dimension = d.dimension
    inner join overall as o on s.geo = o.geo and s.year = o.year
    left join recomputed as r
        on s.dimension = 'desi_4_idt' and r.geo = s.geo and r.year = s.year
)

select * from final
