{% macro indicator_stochrsi(period=14, fastk=5, fastd=3) %}
    {#- talib.STOCHRSI(close, n, fastk, fastd, SMA): the fast stochastic of RSI n - fast %K the
        place of RSI within its last `fastk` values (0 when their range is within 1e-14 x 100 of 0,
        STOCHF's TA_IS_ZERO), fast %D the `fastd`-bar SMA of that. RSI's last values come from the
        rows before, or on an incremental run's first rows from the stored ones (a carried series). -#}
    {%- set rsi = 'rsi_value_' ~ period -%}
    {%- set stochrsi_fastk = [] -%}
    {%- for i in range(fastd) -%}
        {%- set values = [] -%}
        {%- for j in range(i, i + fastk) -%}{%- do values.append(rsi if j == 0 else rsi ~ '_lag_' ~ j) -%}{%- endfor -%}
        {%- set fast_k -%}
            (case
                when (greatest({{ values | join(', ') }}) - least({{ values | join(', ') }})) / 100 > -1e-14
                    and (greatest({{ values | join(', ') }}) - least({{ values | join(', ') }})) / 100 < 1e-14
                    then 0::float8
                else ({{ values[0] }} - least({{ values | join(', ') }}))
                    / ((greatest({{ values | join(', ') }}) - least({{ values | join(', ') }})) / 100)
            end)
        {%- endset -%}
        {%- do stochrsi_fastk.append(fast_k) -%}
    {%- endfor -%}
    {%- set fast_d -%}
        ({{ stochrsi_fastk | reverse | join(' + ') }}) / {{ fastd }}
    {%- endset -%}
    {%- set talib = {'function': 'STOCHRSI', 'inputs': ['close'],
                     'parameters': {'timeperiod': period, 'fastk_period': fastk, 'fastd_period': fastd,
                                    'fastd_matype': 0}} -%}
    {%- set first_bar = period + 1 + (fastk - 1) + (fastd - 1) -%}
    {{ return(indicator_declaration(
        columns=[
            indicator_column(
                'stochrsi_fastk', first_bar=first_bar, value=stochrsi_fastk[0], recursive=true,
                talib=dict(talib, output='fastk'), tolerance='rescaled',
                description='Fast %K of RSI ' ~ period ~ ' over its last ' ~ fastk ~ ' values (0 when they are equal).'),
            indicator_column(
                'stochrsi_fastd', first_bar=first_bar, value=fast_d, recursive=true,
                talib=dict(talib, output='fastd'), tolerance='rescaled',
                description='Fast %D: SMA ' ~ fastd ~ ' of the stochastic RSI\'s fast %K.'),
        ],
        parts=[indicator_wilder_gains_part(period)],
        reach=fastk + fastd - 2,
        derived={1: [{rsi: indicator_rsi_value(period)}]},
        series={rsi: fastk + fastd - 2},
        checks=['stochrsi_fastk between -1e-9 and 100 + 1e-9 and stochrsi_fastd between -1e-9 and 100 + 1e-9'],
        arguments={'period': "RSI's Wilder period (14)", 'fastk': "fast %K's window of RSI values (5)",
                   'fastd': "fast %D's SMA (3)"},
        notes='STOCHF over RSI n (its high, low and close all RSI): fast %K is 0 when the range of the'
            ~ ' last values is within 1e-12 (TA-Lib\'s TA_IS_ZERO on range / 100); compared to 1e-9'
            ~ ' points, as RSI\'s last digits come out multiplied by 100 / that range')) }}
{% endmacro %}
