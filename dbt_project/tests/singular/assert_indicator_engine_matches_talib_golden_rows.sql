{#-
  The indicator engine (macros/technical_indicators.sql) on fixed real series must reproduce
  TA-Lib's values (seeds/golden, written by `python -m bench.golden` for every registry column) -
  independent of what the warehouse holds, so `dbt test` alone catches a regression. Rows
  returned are failures: a wrong null, or a value off by more than 1e-9 relative (values that
  cross zero: MACD-family 1e-12 of the price level, TRIX and the bounded oscillators 1e-12
  points, ADOSC 1e-12 of |AD|),
  or a registry column the golden rows lack.
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

    select
        computed.symbol,
        computed.trade_date,
        computed.close,
        {{ 'computed.ad' if 'ad' in indicator_columns() else 'null::float8' }} as ad,
        v.indicator,
        v.value
    from computed
    cross join lateral (values
        {%- for c in indicator_columns() %}
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
        computed_long.close,
        computed_long.ad
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
        case
            when indicator in ('macd', 'macd_signal', 'macd_hist') then 1e-12 * close::float8
            -- TRIX and the bounded oscillators: 1e-12 points (bench/indicators.py)
            when split_part(indicator, '_', 1) in ('trix', 'rsi', 'stoch', 'willr', 'cci', 'adx',
                                                 'plus', 'minus', 'mfi', 'aroon', 'ultosc')
                then 1e-12
            when indicator = 'adosc' then 1e-12 * abs(ad)
            else 0
        end)
union all
-- a registry column without golden rows: regenerate them (python -m bench.golden)
select
    'no golden rows' as symbol, null::date as trade_date, declared.indicator,
    null::float8 as expected_value, null::float8 as engine_value, null::float8 as close,
    null::float8 as ad
from (values
    {%- for c in indicator_columns() %}
    ('{{ c }}'){{ "," if not loop.last }}
    {%- endfor %}
) as declared (indicator)
where declared.indicator not in (select expected.indicator from expected)
