{% macro indicator_roc(period) %}
    {%- set value -%}
        case when close_lag_{{ period }} <> 0 then ((close_f / close_lag_{{ period }}) - 1) * 100
            when close_lag_{{ period }} = 0 then 0::float8
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'roc_' ~ period, first_bar=period + 1, value=value,
            talib={'function': 'ROC', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Rate of change over ' ~ period ~ ' bars, in percent.')],
        parts=[indicator_close_lag_part(period)],
        arguments={'period': "the bars back n"},
        notes='`(close/close[-n] - 1) x 100`; 0 when the old close is 0')) }}
{% endmacro %}

{% macro indicator_close_lag_part(period) %}
    {#- the close `period` bars back: close_lag_<n> -#}
    {%- set close_lag -%}
        lag(close_f, {{ period }}) over w_time
    {%- endset -%}
    {{ return(indicator_declaration(reach=period, windows={'close_lag_' ~ period: close_lag})) }}
{% endmacro %}
