{#-
  Trading signals, one row per symbol, trading day and signal:
    golden_cross / death_cross          SMA 50 crosses above / below SMA 200
    rsi_crosses_above_30 / _below_30    RSI 14 leaves / enters oversold
    rsi_crosses_above_70 / _below_70    RSI 14 enters / leaves overbought
    macd_crosses_above_signal / _below  MACD line crosses its signal line
    close_above_upper_band / _below_lower_band   close outside the Bollinger bands (each day)
  A cross needs both days' values (no signal in warm-up rows). Incremental from each symbol's
  first changed bar.
-#}
{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date', 'signal'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_from_restart_points(ref('int_daily_indicators_computed')) }}",
        indexes=[{'columns': ['symbol', 'trade_date', 'signal'], 'unique': True}],
    )
}}

with

{% if is_incremental() %}

    restarts as (

        {{ incremental_restart_points(ref('int_daily_indicators_computed'), this) }}

    ),

    starts as (

    -- per symbol, its restart and the bar before it (a cross needs the previous day's values),
    -- found through the engine's (symbol, trade_date) index
        select
            restarts.symbol,
            restarts.restart_date,
            coalesce(previous.trade_date, restarts.restart_date) as read_from
        from restarts
        left join lateral (
            select computed.trade_date
            from {{ ref('int_daily_indicators_computed') }} as computed
            where computed.symbol = restarts.symbol and computed.trade_date < restarts.restart_date
            order by computed.trade_date desc
            limit 1
        ) as previous on true

    ),

    indicators as (

        select
            computed.*,
            starts.restart_date
        from starts
        inner join {{ ref('int_daily_indicators_computed') }} as computed
            on starts.symbol = computed.symbol and starts.read_from <= computed.trade_date

    ),

{% else %}

    indicators as (

        select * from {{ ref('int_daily_indicators_computed') }}

    ),

{% endif %}

with_previous as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        sma_50,
        sma_200,
        rsi_14,
        macd,
        macd_signal,
        bb_upper,
        bb_lower,
        source_loaded_at,
        {%- if is_incremental() %}
            restart_date,
        {%- endif %}
        lag(sma_50) over by_date as previous_sma_50,
        lag(sma_200) over by_date as previous_sma_200,
        lag(rsi_14) over by_date as previous_rsi_14,
        lag(macd) over by_date as previous_macd,
        lag(macd_signal) over by_date as previous_macd_signal,
        lag(trade_date) over by_date as previous_trade_date
    from indicators
    window by_date as (partition by symbol order by trade_date)

),

-- The lateral values list reads the outer row's columns (one row per signal): qualifying each
-- of them would bury the signal table, so RF02 is off for this CTE only.
-- noqa: disable=RF02
candidates as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        source_loaded_at,
        s.signal,
        s.direction,
        s.value,
        s.fired
    from with_previous
    cross join
        lateral (
            values
            (
                'golden_cross', 'bullish', sma_50 - sma_200,
                previous_sma_50 <= previous_sma_200 and sma_50 > sma_200
            ),
            (
                'death_cross', 'bearish', sma_50 - sma_200,
                previous_sma_50 >= previous_sma_200 and sma_50 < sma_200
            ),
            ('rsi_crosses_above_30', 'bullish', rsi_14, previous_rsi_14 <= 30 and rsi_14 > 30),
            ('rsi_crosses_below_30', 'bearish', rsi_14, previous_rsi_14 >= 30 and rsi_14 < 30),
            ('rsi_crosses_above_70', 'bullish', rsi_14, previous_rsi_14 <= 70 and rsi_14 > 70),
            ('rsi_crosses_below_70', 'bearish', rsi_14, previous_rsi_14 >= 70 and rsi_14 < 70),
            (
                'macd_crosses_above_signal', 'bullish', macd - macd_signal,
                previous_macd <= previous_macd_signal and macd > macd_signal
            ),
            (
                'macd_crosses_below_signal', 'bearish', macd - macd_signal,
                previous_macd >= previous_macd_signal and macd < macd_signal
            ),
            ('close_above_upper_band', 'bearish', close - bb_upper, close > bb_upper),
            ('close_below_lower_band', 'bullish', close - bb_lower, close < bb_lower)
        ) as s (signal, direction, value, fired)
    {% if is_incremental() -%}
        where with_previous.trade_date >= with_previous.restart_date
    {%- endif %}

-- noqa: enable=RF02
),

final as (

    select
        symbol,
        trade_date,
        signal,
        direction,
        value,
        close,
        bar_number,
        source_loaded_at
    from candidates
    where fired

)

select * from final
