{#-
  What followed each signal: split-adjusted close-to-close returns 1, 5 and 20 trading days
  later (null until those bars exist) and whether the move went the signal's way.
  A view: forward returns fill in as new bars land, with nothing to rebuild.
-#}
{{ config(materialized='view') }}

with

signals as (

    select * from {{ ref('fct_signals') }}

),

daily_bars as (

    select
        symbol,
        bar_number,
        close
    from {{ ref('fct_daily_bars') }}

),

outcomes as (

    select
        signals.symbol,
        signals.trade_date,
        signals.signal,
        signals.direction,
        signals.close,
        after_1.close / signals.close - 1 as forward_return_1d,
        after_5.close / signals.close - 1 as forward_return_5d,
        after_20.close / signals.close - 1 as forward_return_20d
    from signals
    left join daily_bars as after_1
        on signals.symbol = after_1.symbol and after_1.bar_number = signals.bar_number + 1
    left join daily_bars as after_5
        on signals.symbol = after_5.symbol and after_5.bar_number = signals.bar_number + 5
    left join daily_bars as after_20
        on signals.symbol = after_20.symbol and after_20.bar_number = signals.bar_number + 20

),

final as (

    select
        *,
    {%- for h in ['1d', '5d', '20d'] %}
        case
            when forward_return_{{ h }} is null then null
            when direction = 'bullish' then forward_return_{{ h }} > 0
            else forward_return_{{ h }} < 0
        end as hit_{{ h }}{{ "," if not loop.last }}
    {%- endfor %}
    from outcomes

)

select * from final
