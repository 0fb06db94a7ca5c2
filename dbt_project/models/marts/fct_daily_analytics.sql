{#-
  The analysts' wide daily table: one row per symbol and session with the bar (split-adjusted
  OHLCV, the bar as landed, the adjustment factors, the total-return close), the one-day
  return, every indicator of the registry (indicator_columns(): a family added to the registry
  appears here by itself) and the day's signals. A view over the stored marts (fct_daily_bars,
  fct_daily_indicators, fct_signals): a filter on symbol or day reaches their
  (symbol, trade_date) indexes, and the signals are one index probe per row read.
-#}
{{ config(materialized='view') }}

with

bars as (

    select * from {{ ref('fct_daily_bars') }}

),

indicators as (

    select * from {{ ref('fct_daily_indicators') }}

),

signals as (

    select * from {{ ref('fct_signals') }}

),

final as (

    select
        bars.symbol,
        bars.trade_date,
        bars.bar_number,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.raw_open,
        bars.raw_high,
        bars.raw_low,
        bars.raw_close,
        bars.raw_volume,
        bars.split_factor,
        bars.dividend_factor,
        bars.total_return_close,
        bars.previous_close,
        bars.simple_return,
        bars.log_return,
        {%- for c in indicator_columns() %}
            indicators.{{ c }},
        {%- endfor %}
        day_signals.signals,
        bars.data_source,
        bars.loaded_at

    from bars
    left join indicators
        on bars.symbol = indicators.symbol and bars.trade_date = indicators.trade_date
    cross join lateral (
        select coalesce(array_agg(signals.signal order by signals.signal), '{}') as signals
        from signals
        where signals.symbol = bars.symbol and signals.trade_date = bars.trade_date
    ) as day_signals

)

select * from final
