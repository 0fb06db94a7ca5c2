{#- The indicators analysts query; computed (and kept incrementally) in int_daily_indicators_computed. -#}
{{ config(materialized='view') }}

with

computed as (

    select * from {{ ref('int_daily_indicators_computed') }}

),

final as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        sma_20,
        sma_50,
        sma_200,
        ema_12,
        ema_26,
        ema_50,
        ema_200,
        macd,
        macd_signal,
        macd_hist,
        rsi_14,
        bb_upper,
        bb_middle,
        bb_lower,
        atr_14,
        obv,
        volatility_20

    from computed

)

select * from final
