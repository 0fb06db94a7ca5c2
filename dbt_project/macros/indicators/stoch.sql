{% macro indicator_stoch(fastk=14, slowk=3, slowd=3) %}
    {#- talib.STOCH(high, low, close, fastk, slowk, SMA, slowd, SMA): fast %K over `fastk` bars (0
        on a window without range), slow %K its `slowk`-bar SMA, slow %D the `slowd`-bar SMA of
        that; written out from the lags of fast %K's inputs (the same additions, oldest first, as
        frame averages) so that they take no window pass of their own -#}
    {%- set first_bar = fastk + slowk - 1 + slowd - 1 -%}
    {%- set slow_k -%}
        {{ indicator_stoch_slow_k(fastk, slowk, 0) }}
    {%- endset -%}
    {%- set slow_d -%}
        ({% for i in range(slowd - 1, -1, -1) %}{{ indicator_stoch_slow_k(fastk, slowk, i) }}{{ " + " if not loop.last }}{% endfor %}) / {{ slowd }}
    {%- endset -%}
    {%- set talib = {'function': 'STOCH', 'inputs': ['high', 'low', 'close'],
                     'parameters': {'fastk_period': fastk, 'slowk_period': slowk, 'slowk_matype': 0,
                                    'slowd_period': slowd, 'slowd_matype': 0}} -%}
    {{ return(indicator_declaration(
        columns=[
            indicator_column('stoch_slowk', first_bar=first_bar, value='stoch_slowk_raw',
                             talib=dict(talib, output='slowk'), tolerance='points',
                             description='Slow %K: SMA ' ~ slowk ~ ' of the fast %K over ' ~ fastk
                                 ~ ' bars (0 on a bar without range).'),
            indicator_column('stoch_slowd', first_bar=first_bar, value='stoch_slowd_raw',
                             talib=dict(talib, output='slowd'), tolerance='points',
                             description='Slow %D: SMA ' ~ slowd ~ ' of the slow %K.'),
        ],
        parts=[indicator_extremes_part(fastk)],
        reach=fastk + slowk - 1 + slowd - 1,
        scans={'stoch_slowk_raw': slow_k, 'stoch_slowd_raw': slow_d},
        checks=['stoch_slowk between -1e-9 and 100 + 1e-9 and stoch_slowd between -1e-9 and 100 + 1e-9'],
        arguments={'fastk': "fast %K's window (14)", 'slowk': "slow %K's SMA (3)", 'slowd': "slow %D's SMA (3)"},
        notes='fast %K is 0 on a window without range (TA-Lib 0.8.2 as installed)')) }}
{% endmacro %}

{% macro indicator_stoch_fast_k(fastk, i) -%}
    {#- fast %K, i bars back -#}
    (case
        when (lag(highest_{{ fastk }}, {{ i }}) over w_time - lag(lowest_{{ fastk }}, {{ i }}) over w_time) / 100 <> 0
            then (lag(close_f, {{ i }}) over w_time - lag(lowest_{{ fastk }}, {{ i }}) over w_time)
                / ((lag(highest_{{ fastk }}, {{ i }}) over w_time - lag(lowest_{{ fastk }}, {{ i }}) over w_time) / 100)
        else 0::float8
    end)
{%- endmacro %}

{% macro indicator_stoch_slow_k(fastk, slowk, i) -%}
    {#- slow %K, i bars back: the mean of fast %K from i + slowk - 1 to i bars back, oldest first -#}
    (({% for j in range(i + slowk - 1, i - 1, -1) %}{{ indicator_stoch_fast_k(fastk, j) }}{{ " + " if not loop.last }}{% endfor %}) / {{ slowk }})
{%- endmacro %}

{% macro indicator_extremes_part(period) %}
    {#- the highest high and lowest low of the last `period` bars: highest_<n>, lowest_<n> -#}
    {{ return(indicator_declaration(
        reach=period,
        windows={'highest_' ~ period: ti_window('high_f', period, 'max'),
                 'lowest_' ~ period: ti_window('low_f', period, 'min')})) }}
{% endmacro %}
