{% macro indicator_rsi(period) %}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'rsi_' ~ period, first_bar=period + 1, value=indicator_rsi_value(period), recursive=true,
            talib={'function': 'RSI', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='RSI ' ~ period ~ ', Wilder smoothing; 0 when there was no move.')],
        parts=[indicator_wilder_gains_part(period)],
        checks=['rsi_' ~ period ~ ' between 0 and 100'],
        arguments={'period': "the Wilder period n"},
        notes='Wilder smoothing seeded with the mean of the first n gains/losses; 0 when both averages'
            ~ ' are exactly 0 (TA-Lib 0.8\'s zero tests are exact: after a long flat stretch the'
            ~ ' averages decay to ~1e-14 and still give their ratio)')) }}
{% endmacro %}

{% macro indicator_rsi_value(period) -%}
    {#- talib.RSI from its Wilder averages (indicator_wilder_gains_part) -#}
    case when avg_gain_{{ period }} + avg_loss_{{ period }} = 0 then 0::float8
        else 100 * (avg_gain_{{ period }} / (avg_gain_{{ period }} + avg_loss_{{ period }}))
    end
{%- endmacro %}
