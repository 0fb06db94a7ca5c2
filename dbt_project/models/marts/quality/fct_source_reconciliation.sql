{#-
  The reconciliation view for analysts: one row per symbol and trading day that more than one
  source delivered, each source's split-adjusted close, the chosen source and close, and the
  spread between the sources.
-#}
with

source_bars as (

    select * from {{ ref('int_daily_bars_by_source') }}

),

chosen as (

    select
        symbol,
        trade_date,
        close,
        data_source
    from {{ ref('int_daily_bars_adjusted') }}

),

per_day as (

    select
        symbol,
        trade_date,
        count(*) as source_count,
        max(close) filter (where data_source = 'polygon') as polygon_close,
        max(close) filter (where data_source = 'yahoo') as yahoo_close,
        max(close) filter (where data_source = 'files') as files_close,
        min(close) as lowest_close,
        max(close) as highest_close
    from source_bars
    group by symbol, trade_date
    having count(*) > 1

),

final as (

    select
        per_day.symbol,
        per_day.trade_date,
        per_day.source_count,
        per_day.polygon_close::float8 as polygon_close,
        per_day.yahoo_close::float8 as yahoo_close,
        per_day.files_close::float8 as files_close,
        chosen.data_source as chosen_source,
        chosen.close::float8 as chosen_close,
        (per_day.highest_close - per_day.lowest_close)::float8 as close_spread,
        (per_day.highest_close / nullif(per_day.lowest_close, 0) - 1)::float8 as close_spread_ratio,
        per_day.highest_close / nullif(per_day.lowest_close, 0) - 1
        <= {{ var('source_tolerance') }} as is_within_tolerance

    from per_day
    inner join chosen
        on per_day.symbol = chosen.symbol and per_day.trade_date = chosen.trade_date

)

select * from final
