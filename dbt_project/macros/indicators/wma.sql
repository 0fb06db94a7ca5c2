{% macro indicator_wma(period) %}
    {#- talib.WMA: weights 1..n, newest heaviest; n lags: O(n) per row -#}
    {%- set wma -%}
        ({% for i in range(period) %}{{ period - i }} * lag(close_f, {{ i }}) over w_time{{ " + " if not loop.last }}{% endfor %}) / {{ (period * (period + 1)) // 2 }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'wma_' ~ period, first_bar=period, value='wma_' ~ period,
            talib={'function': 'WMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Linearly weighted moving average of the last ' ~ period ~ ' closes.')],
        reach=period, windows={'wma_' ~ period: wma},
        arguments={'period': "the window n"},
        notes='weights 1..n, newest heaviest')) }}
{% endmacro %}
