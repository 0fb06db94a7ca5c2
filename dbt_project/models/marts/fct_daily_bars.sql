with

sequenced_bars as (

    select * from {{ ref('int_daily_bars_sequenced') }}

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
        bar_number,
        previous_close,
        simple_return,
        log_return,
        data_source,
        loaded_at

    from sequenced_bars

)

select * from final
