-- The most oversold and overbought symbols on the latest trading day (RSI 14).
with latest as (
    select max(trade_date) as trade_date from {{ ref('fct_daily_indicators') }}
),

ranked as (
    select
        i.symbol,
        i.trade_date,
        i.close,
        i.rsi_14,
        case when i.rsi_14 < 30 then 'oversold' when i.rsi_14 > 70 then 'overbought' end
            as condition
    from {{ ref('fct_daily_indicators') }} as i
    inner join latest on i.trade_date = latest.trade_date
    where i.rsi_14 < 30 or i.rsi_14 > 70
)

select * from ranked
order by abs(rsi_14 - 50) desc
limit 20
