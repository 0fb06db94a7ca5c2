{{ config(materialized='view') }}

with

daily_bars as (

    select * from {{ ref('fct_daily_bars') }}

),

per_symbol as (

    select
        symbol,
        min(trade_date) as first_trade_date,
        max(trade_date) as last_trade_date,
        count(*) as bar_count,
        (array_agg(close order by trade_date desc))[1] as last_close,
        max(loaded_at) as last_loaded_at

    from daily_bars
    group by symbol

),

final as (

    select * from per_symbol

)

select * from final
