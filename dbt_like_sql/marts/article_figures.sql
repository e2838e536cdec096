/* The values behind the article's Abb. 2 (digital integration of SMEs by size class) and Abb. 3 (framework conditions by size class): Germany, per indicator and size class 0-9, 10-49, 50-249 and the SME total 0-249, every survey year. Destatis (GENESIS 52911-0003, the article's source) where it publishes the value, Eurostat otherwise; the source column says which. */
with observations as (
    select * from staging.observations
),

figures as (
    select * from (values
        ('abb2', 1, 'website', 'Website', 'Website'),
        ('abb2', 2, 'employees_internet_access', 'Beschäftigte mit Internetzugang',
         'Employees with internet access'),
        ('abb2', 3, 'cloud_computing', 'Cloud Computing', 'Cloud computing'),
        ('abb2', 4, 'big_data', 'Big-Data-Analyse', 'Big data analysis'),
        ('abb2', 5, '3d_printing', '3D-Druck', '3D printing'),
        ('abb2', 6, 'ecommerce_sales', 'E-Commerce', 'E-commerce sales'),
        ('abb3', 1, 'internet_access', 'Internetzugang', 'Internet access'),
        ('abb3', 2, 'fixed_broadband', 'Feste Breitbandverbindung', 'Fixed broadband'),
        ('abb3', 3, 'broadband_speed_sufficient', 'Breitbandgeschwindigkeit ausreichend',
         'Broadband speed sufficient'),
        ('abb3', 4, 'ict_specialists_employed', 'IT-Fachkräfte beschäftigt',
         'Employ ICT specialists'),
        ('abb3', 5, 'ict_vacancies_hard_to_fill', 'Schwer zu besetzende IT-Stellen',
         'Hard-to-fill ICT vacancies'),
        ('abb3', 6, 'ict_training', 'IT-Weiterbildung', 'ICT training')
    ) as f (figure, position, indicator, label_de, label_en)
),

candidates as (
    select
        f.figure, f.position, f.indicator, f.label_de, f.label_en, o.size_class, o.year, o.unit, o.value,
        o.flag, o.conf_status, o.source, o.dataset,
        row_number() over (
            partition by f.figure, f.indicator, o.size_class, o.year
            order by o.source = 'genesis' desc, o.unit
        ) as preference
    from figures as f
    inner join observations as o on o.indicator = f.indicator
    where o.geo = 'DE' and o.size_class in ('0-9', '10-49', '50-249', '0-249')
        and o.nace in ('TOTAL', 'C10-S951_X_K')
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
        flag is not null and not (source = 'genesis' and flag = 'e')
            as flagged,  -- the flag qualifies the value (Destatis 'e' means final and does not)
        value is null and conf_status is not null
            as is_confidential,  -- withheld as confidential (Eurostat CONF_STATUS), not missing
        source,       -- genesis (Destatis, preferred) or eurostat
        dataset,      -- catalogue dataset the value came from (its code is the source's table)
        source <> 'genesis' as destatis_missing  -- Eurostat stands in: Destatis has no row
    from candidates
    where preference = 1
)

select * from final
