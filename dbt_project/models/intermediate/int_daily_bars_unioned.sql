{#-
  One bar per symbol and trading day from all sources, by precedence: Polygon over Yahoo over
  files (a lower source's bar is kept only where no higher one exists; anti-joins on the
  sources' keys, no sort). Bars stay as the source gave them (vendors: unadjusted).
-#}
with

file_bars as (

    select * from {{ ref('stg_files__daily_bars') }}

),

ranked as (

    select * from file_bars

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
