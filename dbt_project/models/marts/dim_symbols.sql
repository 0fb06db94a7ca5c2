with

sequenced_bars as (

    select * from {{ ref('int_daily_bars_sequenced') }}

),

per_symbol as (

    select
        symbol,
        min(trade_date) as first_trade_date,
        max(trade_date) as last_trade_date,
        count(*) as bar_count,
        (array_agg(close order by trade_date desc))[1] as last_close,
        max(loaded_at) as last_loaded_at

    from sequenced_bars
    group by symbol

),

final as (

    select * from per_symbol

)

select * from final
