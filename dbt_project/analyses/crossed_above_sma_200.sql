-- Symbols whose close crossed above their 200-day SMA on the latest trading day.
with latest as (
    select max(trade_date) as trade_date from {{ ref('fct_daily_indicators') }}
),

with_previous as (
    select
        indicators.symbol,
        indicators.trade_date,
        indicators.close,
        indicators.sma_200,
        lag(indicators.close) over by_date as previous_close,
        lag(indicators.sma_200) over by_date as previous_sma_200
    from {{ ref('fct_daily_indicators') }} as indicators
    where indicators.trade_date >= (select latest.trade_date - 10 from latest)
    window by_date as (partition by symbol order by trade_date)
)

select
    with_previous.symbol,
    with_previous.trade_date,
    with_previous.close,
    with_previous.sma_200,
    with_previous.close / with_previous.sma_200 - 1 as distance_above
from with_previous
where
    with_previous.trade_date = (select latest.trade_date from latest)
    and with_previous.previous_close <= with_previous.previous_sma_200
    and with_previous.close > with_previous.sma_200
order by distance_above desc
