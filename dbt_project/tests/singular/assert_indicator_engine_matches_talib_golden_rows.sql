{#-
  The indicator engine (macros/technical_indicators.sql) on fixed real series must reproduce
  TA-Lib's values (seeds/golden, written by `python -m bench.golden` for every registry column) -
  independent of what the warehouse holds, so `dbt test` alone catches a regression. Rows
  returned are failures: a wrong null, a value further from TA-Lib's than its family's tolerance
  (indicator_tolerances(): 1e-9 relative, with an absolute floor for values that sit at or cross
  zero), or a registry column the golden rows lack.
-#}

{%- set engine = indicator_engine() %}

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
        {{ indicator_no_carried_state(engine) }}
    from {{ ref('talib_golden_input') }}

),

computed as (

    {{ technical_indicators('golden_input', carried=false, engine=engine) }}

),

computed_long as (

    select
        computed.symbol,
        computed.trade_date,
        computed.close,
        {{ 'computed.ad' if 'ad' in engine.output_names else 'null::float8' }} as ad,
        by_indicator.indicator,
        by_indicator.value
    from computed
    cross join lateral (
        values
        {% for c in engine.output_names %}
            ('{{ c }}', computed.{{ c }}){{ "," if not loop.last }}
        {% endfor %}
    ) as by_indicator (indicator, value)

),

expected as (

    select * from {{ ref('talib_golden_expected') }}

),

-- each registry column's tolerance kind (indicator_tolerances(), declared by its family)
tolerances as (

    select * from (
        values
        {% for c in engine.outputs %}
            ('{{ c.name }}', '{{ c.tolerance }}'){{ "," if not loop.last }}
        {% endfor %}
    ) as declared (indicator, tolerance)

),

declared_columns as (

    select * from (
        values
        {% for c in engine.output_names %}
            ('{{ c }}'){{ "," if not loop.last }}
        {% endfor %}
    ) as declared (indicator)

),

compared as (

    select
        expected.symbol,
        expected.trade_date,
        expected.indicator,
        expected.expected_value,
        computed_long.value as engine_value,
        computed_long.close,
        computed_long.ad,
        tolerances.tolerance
    from expected
    left join computed_long
        on expected.symbol = computed_long.symbol
        and expected.trade_date = computed_long.trade_date
        and expected.indicator = computed_long.indicator
    left join tolerances on expected.indicator = tolerances.indicator

),

failures as (

    select
        symbol,
        trade_date,
        indicator,
        expected_value,
        engine_value,
        close,
        ad
    from compared
    where
        close is null
        or (expected_value is null) <> (engine_value is null)
        or abs(engine_value - expected_value) > case tolerance
            {% for kind in indicator_tolerances() %}
                when '{{ kind }}'
                    then {{ indicator_allowed_error(kind, 'expected_value', 'close', 'ad') }}
            {% endfor %}
        end

),

-- a registry column without golden rows: regenerate them (python -m bench.golden)
missing as (

    select
        'no golden rows' as symbol,
        null::date as trade_date,
        indicator,
        null::float8 as expected_value,
        null::float8 as engine_value,
        null::float8 as close,
        null::float8 as ad
    from declared_columns
    where indicator not in (select expected.indicator from expected)

)

select * from failures
union all
select * from missing
