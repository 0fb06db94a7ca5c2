{% macro indicator_ppo(fast=12, slow=26) %}
    {#- talib.PPO(close, fast, slow, SMA): (fast SMA - slow SMA) / slow SMA x 100, 0 when the slow
        SMA is within 1e-14 of 0 (TA_IS_ZERO); the SMAs as APO's (sums of the window's closes) -#}
    {%- set slow_mean -%}
        window_sum_close_{{ slow }} / {{ slow }}
    {%- endset -%}
    {%- set value -%}
        case when {{ slow_mean }} > -1e-14 and {{ slow_mean }} < 1e-14 then 0::float8
            else (window_sum_close_{{ fast }} / {{ fast }} - {{ slow_mean }}) / ({{ slow_mean }}) * 100
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'ppo', first_bar=slow, value=value,
            talib={'function': 'PPO', 'inputs': ['close'],
                   'parameters': {'fastperiod': fast, 'slowperiod': slow, 'matype': 0}},
            tolerance='percent',
            description='Percentage price oscillator: (SMA ' ~ fast ~ ' - SMA ' ~ slow ~ ') / SMA ' ~ slow ~ ' x 100.')],
        parts=[indicator_window_sum_close_part(fast), indicator_window_sum_close_part(slow)],
        arguments={'fast': "the fast SMA's period (12)", 'slow': "the slow SMA's period (26)"},
        notes='the SMA variant; 0 when the slow SMA is within 1e-14 of 0; crosses zero, so compared'
            ~ ' to 1e-10 points (1e-12 of the price level, in percent)')) }}
{% endmacro %}
