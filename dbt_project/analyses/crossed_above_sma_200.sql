-- Symbols whose close crossed above their 200-day SMA on the latest complete session
-- (dim_sessions: not max(trade_date), which one stray row dated far ahead would move).
with with_previous as (
    select
        indicators.symbol,
        indicators.trade_date,
        indicators.close,
        indicators.sma_200,
        lag(indicators.close) over by_date as previous_close,
        lag(indicators.sma_200) over by_date as previous_sma_200
    from {{ ref('fct_daily_indicators') }} as indicators
    where indicators.trade_date between (
            select sessions.session_date from {{ ref('dim_sessions') }} as sessions
            where sessions.sessions_ago = 1
        ) and (
            select sessions.session_date from {{ ref('dim_sessions') }} as sessions
            where sessions.is_latest_complete
        )
    window by_date as (partition by indicators.symbol order by indicators.trade_date)
)

select
    with_previous.symbol,
    with_previous.trade_date,
    with_previous.close,
    with_previous.sma_200,
    with_previous.close / with_previous.sma_200 - 1 as distance_above
from with_previous
where
    with_previous.trade_date = (
        select sessions.session_date from {{ ref('dim_sessions') }} as sessions
        where sessions.is_latest_complete
    )
    and with_previous.previous_close <= with_previous.previous_sma_200
    and with_previous.close > with_previous.sma_200
order by distance_above desc
