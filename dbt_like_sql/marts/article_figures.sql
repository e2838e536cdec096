/* The values behind the article's Abb. 2 (digital integration of SMEs by size class) and Abb. 3 (framework conditions by size class): Germany, per indicator and size class 0-9, 10-49, 50-249 and the SME total 0-249, every survey year. Destatis (GENESIS 52911-0003, the article's source: the national statistics office, scope national in staging.sources) where it publishes the value, Eurostat otherwise; the source column says which. */
with observations as (
    select * from staging.observations
),

figures as (
    select * from seeds.article_figure_indicators
),

headline_nace as (
    select * from seeds.headline_nace
),

sources as (
    select * from staging.sources
),

candidates as (
    select
        f.figure, f.position, f.indicator, f.label_de, f.label_en, o.size_class, o.year, o.unit, o.value,
        o.flag, o.conf_status, o.source, o.dataset, s.scope,
        row_number() over (
            partition by f.figure, f.indicator, o.size_class, o.year
            order by s.scope = 'national' desc, o.unit
        ) as preference
    from figures as f
    inner join observations as o on o.indicator = f.indicator
    -- scope national is Destatis here (Germany's office): is_flagged reads its flag vocabulary
    inner join sources as s on o.source = s.source
    -- the headline NACE from the seed stg_headline_shares reads too: this mart also needs the
    -- dataset and conf_status of each value, which the headline slice does not carry
    inner join headline_nace as h on o.nace = h.nace
    where o.geo = 'DE' and o.size_class in ('0-9', '10-49', '50-249', '0-249')
),

final as (
    select
        figure,       -- abb2 (digital integration) or abb3 (framework conditions)
        position,     -- order of the indicator in the figure
        indicator,    -- harmonised indicator name
        label_de,     -- the figure's German label
        label_en,     -- the same label in English
        size_class,   -- 0-9, 10-49, 50-249, or 0-249 (all SMEs)
        year,         -- survey year
        unit,         -- pct_enterprises, pct_employed or pct_recruiting_enterprises
        value,        -- share, %
        flag,         -- source flag, verbatim (a value without a number keeps its sign here)
        flag is not null and not (scope = 'national' and flag = 'e')
            as is_flagged,  -- the flag qualifies the value (Destatis 'e' means final and does not)
        value is null and conf_status is not null
            as is_confidential,  -- withheld as confidential (Eurostat CONF_STATUS), not missing
        source,       -- genesis (Destatis, preferred) or eurostat
        dataset,      -- catalogue dataset the value came from (its code is the source's table)
        scope <> 'national' as is_destatis_missing  -- Eurostat stands in: Destatis has no row
    from candidates
    where preference = 1
)

select * from final
