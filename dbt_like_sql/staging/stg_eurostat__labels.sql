/* Eurostat code labels in English and German, one row per codelist and code. */
with codelists as (
    select * from raw.eurostat__codelists
),

final as (
    select
        lower(codelist) as codelist,  -- geo, size_emp, indic_is or unit
        code,                         -- Eurostat code as used in the data
        label_en,                     -- English label
        coalesce(label_de, label_en) as label_de  -- German label (English where Eurostat has none)
    from codelists
)

select * from final
