{#-
  The indicator engine (macros/technical_indicators.sql) on fixed real series must reproduce
  TA-Lib's values (seeds/golden) - independent of what the warehouse holds, so `dbt test` alone
  catches a regression. Rows returned are failures: a wrong null, or a value off by more than
  1e-9 relative (MACD-family values cross zero: 1e-12 of the price level there).
-#}

with

golden_input as (

    select
        symbol,
        trade_date,
        row_number() over (partition by symbol order by trade_date) as bar_number,
        true as is_output,
        high,
        low,
        close,
        volume,
        now() as source_loaded_at,
        {{ indicator_no_carried_state() }}
    from {{ ref('talib_golden_input') }}

),

computed as (

    select * from ({{ technical_indicators('golden_input', carried=false) }}) as indicators

),

computed_long as (

    select computed.symbol, computed.trade_date, computed.close, v.indicator, v.value
    from computed
    cross join lateral (values
        {%- for c in ['sma_20', 'sma_50', 'sma_200', 'ema_12', 'ema_26', 'ema_50', 'ema_200',
                      'macd', 'macd_signal', 'macd_hist', 'rsi_14', 'bb_upper', 'bb_middle',
                      'bb_lower', 'atr_14', 'obv', 'volatility_20'] %}
        ('{{ c }}', computed.{{ c }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as v (indicator, value)

),

expected as (

    select * from {{ ref('talib_golden_expected') }}

),

compared as (

    select
        expected.symbol,
        expected.trade_date,
        expected.indicator,
        expected.expected_value,
        computed_long.value as engine_value,
        computed_long.close
    from expected
    left join computed_long
        on computed_long.symbol = expected.symbol
        and computed_long.trade_date = expected.trade_date
        and computed_long.indicator = expected.indicator

)

select *
from compared
where close is null
    or (expected_value is null) <> (engine_value is null)
    or abs(engine_value - expected_value) > greatest(
        1e-9 * abs(expected_value),
        case when indicator in ('macd', 'macd_signal', 'macd_hist') then 1e-12 * close::float8
             else 0 end)
