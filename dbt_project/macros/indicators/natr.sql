{% macro indicator_natr(period) %}
    {%- set value -%}
        case when close_f = 0 then 0::float8 else (atr_{{ period }} / close_f) * 100 end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'natr_' ~ period, first_bar=period + 1, value=value, recursive=true,
            talib={'function': 'NATR', 'inputs': ['high', 'low', 'close'], 'parameters': {'timeperiod': period}},
            description='ATR ' ~ period ~ ' / close x 100.')],
        parts=[indicator_atr_part(period)],
        arguments={'period': "the Wilder period n"},
        notes='ATR n / close x 100')) }}
{% endmacro %}
