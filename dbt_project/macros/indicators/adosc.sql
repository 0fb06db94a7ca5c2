{% macro indicator_adosc(fast=3, slow=10) %}
    {#- talib.ADOSC(high, low, close, volume, fast, slow): EMA fast - EMA slow of AD, both seeded
        with the first bar's AD (not an SMA) -#}
    {%- set recursions = [] -%}
    {%- for name, period in [('adosc_fast', fast), ('adosc_slow', slow)] -%}
        {%- set decay -%}
            (1 - 2::float8 / {{ period + 1 }})
        {%- endset -%}
        {%- do recursions.append(indicator_recursion(
            name, decay, 1, ti_impulse(1, 'ad', indicator_ema_factor(period), 'ad'))) -%}
    {%- endfor -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'adosc', first_bar=slow, value='adosc_fast - adosc_slow', recursive=true,
            talib={'function': 'ADOSC', 'inputs': ['high', 'low', 'close', 'volume'],
                   'parameters': {'fastperiod': fast, 'slowperiod': slow}},
            tolerance='ad',
            description='Chaikin oscillator: EMA ' ~ fast ~ ' - EMA ' ~ slow ~ ' of AD, both seeded with the first bar\'s AD.')],
        parts=[indicator_ad_part()],
        recursions=recursions,
        arguments={'fast': "the fast EMA's period (3)", 'slow': "the slow EMA's period (10)"},
        notes='both EMAs seeded with the first bar\'s AD (not an SMA)')) }}
{% endmacro %}
