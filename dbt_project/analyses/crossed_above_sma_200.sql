-- Symbols whose close crossed above their 200-day SMA on the latest trading day.
with latest as (
    select max(trade_date) as trade_date from {{ ref('fct_daily_indicators') }}
),
with_previous as (
    select symbol, trade_date, close, sma_200,
           lag(close) over by_date as previous_close,
           lag(sma_200) over by_date as previous_sma_200
    from {{ ref('fct_daily_indicators') }}
    where trade_date >= (select trade_date - 10 from latest)
    window by_date as (partition by symbol order by trade_date)
)
select symbol, trade_date, close, sma_200, close / sma_200 - 1 as distance_above
from with_previous
where trade_date = (select trade_date from latest)
  and previous_close <= previous_sma_200 and close > sma_200
order by distance_above desc
