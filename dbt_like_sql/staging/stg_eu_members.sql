/* The 27 EU member states since February 2020 (Eurostat GEO codes; Greece is EL). Rankings and "best country" compare these countries only: aggregates (EU27_2020, EA20, ...) and non-members are never ranked. The United Kingdom is left out in every year so that ranks of different years count the same countries. */
with members as (
    select * from (values
        ('BE'), ('BG'), ('CZ'), ('DK'), ('DE'), ('EE'), ('IE'), ('EL'), ('ES'), ('FR'),
        ('HR'), ('IT'), ('CY'), ('LV'), ('LT'), ('LU'), ('HU'), ('MT'), ('NL'), ('AT'),
        ('PL'), ('PT'), ('RO'), ('SI'), ('SK'), ('FI'), ('SE')
    ) as m (geo)
),

final as (
    select
        geo  -- Eurostat GEO code of an EU member state
    from members
)

select * from final
