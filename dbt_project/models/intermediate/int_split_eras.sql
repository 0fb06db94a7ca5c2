{#-
  Per symbol, the periods between split ex-dates and the factor that applies in each: a bar
  dated in [era_start, era_end) is divided by split_factor, the exact product of the ratios of
  every split from era_end on. Bars on or after the last ex-date have no era (factor 1).
-#}
with

splits as (

    select * from {{ ref('int_corporate_actions_unioned') }}
    where action_type = 'split'

),

eras as (

    select
        symbol,
        lag(ex_date) over by_date as era_start,
        ex_date as era_end,
        udf.product(split_ratio) over newest_first as split_factor
    from splits
    window
        by_date as (partition by symbol order by ex_date),
        newest_first as (partition by symbol order by ex_date desc rows unbounded preceding)

),

final as (

    select * from eras

)

select * from final
