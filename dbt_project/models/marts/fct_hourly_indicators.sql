{#-
  The daily indicator set on hourly bars, periods counted in bars (SMA 20 = the last 20 hourly
  bars), computed by the same engine as the daily ones (macros/technical_indicators.sql) from
  each symbol's first landed hourly bar. volatility_20 uses the same sqrt(252) factor as the
  daily column, so it is not an annualised hourly volatility.
-#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['symbol', 'bar_start'], 'unique': True}],
    )
}}
{%- set engine = indicator_engine() %}

with

hourly_input as (

    select
        symbol,
        bar_start,
        row_number() over (partition by symbol order by bar_start) as bar_number,
        true as is_output,
        high,
        low,
        close,
        volume,
        loaded_at as source_loaded_at,
        {{ indicator_no_carried_state(engine) }}
    from {{ ref('int_hourly_bars_adjusted') }}

),

computed as (

    {{ technical_indicators('hourly_input', order_by='bar_start', carried=false, engine=engine) }}

),

trading_days as (

    select
        symbol,
        bar_start,
        trade_date
    from {{ ref('int_hourly_bars_adjusted') }}

),

final as (

    select
        computed.symbol,
        computed.bar_start,
        trading_days.trade_date,
        computed.bar_number,
        computed.close,
    {%- for c in engine.output_names %}
        computed.{{ c }}{{ "," if not loop.last }}
    {%- endfor %}
    from computed
    inner join trading_days
        on computed.symbol = trading_days.symbol and computed.bar_start = trading_days.bar_start

)

select * from final
