{#-
  One bar per symbol and trading day from all sources, by precedence: Polygon over Yahoo over
  files (a lower source's bar is kept only where no higher one exists; anti-joins on the
  sources' keys, no sort). Bars stay as the source gave them (vendors: unadjusted).
-#}
with

polygon_bars as (

    select * from {{ ref('stg_polygon__daily_bars') }}

),

yahoo_bars as (

    select * from {{ ref('stg_yahoo__daily_bars') }} as yahoo
    where not exists (
        select 1 from {{ ref('stg_polygon__daily_bars') }} as polygon
        where polygon.symbol = yahoo.symbol and polygon.trade_date = yahoo.trade_date
    )

),

file_bars as (

    select * from {{ ref('stg_files__daily_bars') }} as files
    where not exists (
        select 1 from {{ ref('stg_polygon__daily_bars') }} as polygon
        where polygon.symbol = files.symbol and polygon.trade_date = files.trade_date
    )
    and not exists (
        select 1 from {{ ref('stg_yahoo__daily_bars') }} as yahoo
        where yahoo.symbol = files.symbol and yahoo.trade_date = files.trade_date
    )

),

ranked as (

    select * from polygon_bars
    union all
    select * from yahoo_bars
    union all
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
