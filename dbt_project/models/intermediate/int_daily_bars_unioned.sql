{#-
  One bar per symbol and trading day from all sources, by precedence: Polygon over Yahoo over
  files (a lower source's bar is kept only where no higher one exists; anti-joins on the
  sources' keys, no sort). Bars stay as the source gave them (vendors: unadjusted). Each CTE
  reads stg_raw__daily_bars itself, so PostgreSQL inlines them and a filter on symbol and date
  reaches raw.daily_bars' primary key (source, symbol, trade_date).
-#}
with

polygon_bars as (

    select * from {{ ref('stg_raw__daily_bars') }}
    where data_source = 'polygon'

),

yahoo_bars as (

    select yahoo.* from {{ ref('stg_raw__daily_bars') }} as yahoo
    where
        yahoo.data_source = 'yahoo'
        and not exists (
            select 1 from {{ ref('stg_raw__daily_bars') }} as polygon_bar
            where
                polygon_bar.data_source = 'polygon'
                and polygon_bar.symbol = yahoo.symbol
                and polygon_bar.trade_date = yahoo.trade_date
        )

),

file_bars as (

    select files.* from {{ ref('stg_raw__daily_bars') }} as files
    where
        files.data_source = 'files'
        and not exists (
            select 1 from {{ ref('stg_raw__daily_bars') }} as vendor_bar
            where
                vendor_bar.data_source in ('polygon', 'yahoo')
                and vendor_bar.symbol = files.symbol
                and vendor_bar.trade_date = files.trade_date
        )

),

unioned as (

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

    from unioned

)

select * from final
