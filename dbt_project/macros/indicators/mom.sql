{% macro indicator_mom(period) %}
    {%- set value -%}
        close_f - close_lag_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'mom_' ~ period, first_bar=period + 1, value=value,
            talib={'function': 'MOM', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Momentum: close - close ' ~ period ~ ' bars before.')],
        parts=[indicator_close_lag_part(period)],
        arguments={'period': "the bars back n"})) }}
{% endmacro %}
