{% macro indicator_cmo(period) %}
    {#- talib.CMO(close, n): Chande momentum oscillator over RSI's Wilder averages of the gains and
        losses (the same seeds, the same first bar): 100 (gains - losses) / (gains + losses), 0
        when both are exactly 0 (TA-Lib 0.8's zero test is exact) -#}
    {%- set value -%}
        case when avg_gain_{{ period }} + avg_loss_{{ period }} = 0 then 0::float8
            else 100 * ((avg_gain_{{ period }} - avg_loss_{{ period }})
                        / (avg_gain_{{ period }} + avg_loss_{{ period }}))
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'cmo_' ~ period, first_bar=period + 1, value=value, recursive=true,
            talib={'function': 'CMO', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='Chande momentum oscillator ' ~ period ~ ': 100 x (gains - losses) / (gains + losses),'
                ~ ' Wilder-smoothed as RSI ' ~ period ~ '.')],
        parts=[indicator_wilder_gains_part(period)],
        checks=['cmo_' ~ period ~ ' between -100 - 1e-9 and 100 + 1e-9'],
        arguments={'period': "the Wilder period n"},
        notes='the Wilder averages of RSI (seeded with the mean of the first n gains/losses), so'
            ~ ' CMO = 2 RSI - 100; 0 when both averages are exactly 0')) }}
{% endmacro %}
