{% macro indicator_apo(fast=12, slow=26) %}
    {#- talib.APO(close, fast, slow, SMA): the fast SMA minus the slow one, each the plain sum of
        its window's closes (lags, O(n) per row: a difference of two long running sums would lose
        the digits a difference of two means keeps) -#}
    {%- set value -%}
        window_sum_close_{{ fast }} / {{ fast }} - window_sum_close_{{ slow }} / {{ slow }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'apo', first_bar=slow, value=value,
            talib={'function': 'APO', 'inputs': ['close'],
                   'parameters': {'fastperiod': fast, 'slowperiod': slow, 'matype': 0}},
            tolerance='price',
            description='Absolute price oscillator: SMA ' ~ fast ~ ' - SMA ' ~ slow ~ ' of the close.')],
        parts=[indicator_window_sum_close_part(fast), indicator_window_sum_close_part(slow)],
        arguments={'fast': "the fast SMA's period (12)", 'slow': "the slow SMA's period (26)"},
        notes='the SMA variant (TA-Lib\'s default MA type is the SMA); crosses zero, so compared to'
            ~ ' 1e-12 of the price level')) }}
{% endmacro %}

{% macro indicator_window_sum_close_part(period) %}
    {#- window_sum_close_<n>: the sum of the last n closes, oldest first (n lags) -#}
    {%- set window_sum -%}
        ({% for i in range(period - 1, -1, -1) %}lag(close_f, {{ i }}) over w_time{{ " + " if not loop.last }}{% endfor %})
    {%- endset -%}
    {{ return(indicator_declaration(reach=period, windows={'window_sum_close_' ~ period: window_sum})) }}
{% endmacro %}
