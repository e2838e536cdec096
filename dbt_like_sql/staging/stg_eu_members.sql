/* The 27 EU member states since February 2020 (Eurostat GEO codes; Greece is EL), as listed in seeds.eu_members. Rankings and "best country" compare these countries only: aggregates (EU27_2020, EA20, ...) and non-members are never ranked. The United Kingdom is left out in every year so that ranks of different years count the same countries. */
with members as (
    select * from seeds.eu_members
),

final as (
    select
        geo  -- Eurostat GEO code of an EU member state
    from members
)

select * from final
