-- The most oversold and overbought symbols on the latest complete session (RSI 14).
-- "Latest" is dim_sessions' latest complete session, not max(trade_date): one stray row dated
-- far ahead would otherwise leave this empty. As a scalar subquery, the date reaches the
-- (symbol, trade_date) indexes.
select
    i.symbol,
    i.trade_date,
    i.close,
    i.rsi_14,
    case when i.rsi_14 < 30 then 'oversold' when i.rsi_14 > 70 then 'overbought' end
        as condition
from {{ ref('fct_daily_indicators') }} as i
where
    i.trade_date = (
        select sessions.session_date from {{ ref('dim_sessions') }} as sessions
        where sessions.is_latest_complete
    )
    and (i.rsi_14 < 30 or i.rsi_14 > 70)
order by abs(i.rsi_14 - 50) desc
limit 20
