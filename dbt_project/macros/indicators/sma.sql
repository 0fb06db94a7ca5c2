{% macro indicator_sma(period) %}
    {%- set value -%}
        mean_close_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'sma_' ~ period, first_bar=period, value=value,
            talib={'function': 'SMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Simple moving average of the last ' ~ period ~ ' closes.')],
        means_of_close=[period], reach=0,
        arguments={'period': "the number of closes n"})) }}
{% endmacro %}
