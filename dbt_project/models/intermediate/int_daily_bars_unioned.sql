{#-
  One bar per symbol and trading day from all sources, by precedence: Polygon over Yahoo over
  files. Bars stay as the source gave them (vendors: unadjusted).
-#}
with

file_bars as (

    select *, 3 as source_rank from {{ ref('stg_files__daily_bars') }}

),

unioned as (

    select * from file_bars

),

ranked as (

    select distinct on (symbol, trade_date) *
    from unioned
    order by symbol, trade_date, source_rank

),

final as (

    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        data_source,
        loaded_at

    from ranked

)

select * from final
