{% macro indicator_willr(period) %}
    {%- set value -%}
        case when (highest_{{ period }} - lowest_{{ period }}) / (-100) <> 0
            then (highest_{{ period }} - close_f) / ((highest_{{ period }} - lowest_{{ period }}) / (-100))
            else 0::float8
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'willr_' ~ period, first_bar=period, value=value,
            talib={'function': 'WILLR', 'inputs': ['high', 'low', 'close'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='Williams %R over ' ~ period ~ ' bars (0 on a flat window).')],
        parts=[indicator_extremes_part(period)],
        checks=['willr_' ~ period ~ ' between -100 - 1e-9 and 1e-9'],
        arguments={'period': "the window n"},
        notes='0 on a window without range')) }}
{% endmacro %}
