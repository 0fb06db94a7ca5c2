{% macro indicator_aroon(period) %}
    {#- talib.AROON(high, low, n): over n + 1 bars; when the extreme repeats, the latest one
        counts. The bars since the extreme are n + 1 lags: O(n) per row. -#}
    {%- set windows = {} -%}
    {%- set scans = {} -%}
    {%- set columns = [] -%}
    {%- for side, extreme, fn, output in [('high', 'highest', 'max', 'up'), ('low', 'lowest', 'min', 'down')] -%}
        {%- do windows.update({'aroon_' ~ extreme ~ '_' ~ period: ti_window(side ~ '_f', period + 1, fn)}) -%}
        {%- set bars_since -%}
            case
                {%- for i in range(period + 1) %}
                when lag({{ side }}_f, {{ i }}) over w_time = aroon_{{ extreme }}_{{ period }} then {{ i }}
                {%- endfor %}
            end
        {%- endset -%}
        {%- do scans.update({'bars_since_' ~ side ~ '_' ~ period: bars_since}) -%}
        {%- set value -%}
            (100::float8 / {{ period }}) * ({{ period }} - bars_since_{{ side }}_{{ period }})
        {%- endset -%}
        {%- do columns.append(indicator_column(
            'aroon_' ~ output ~ '_' ~ period, first_bar=period + 1, value=value,
            talib={'function': 'AROON', 'inputs': ['high', 'low'], 'parameters': {'timeperiod': period},
                   'output': 'aroon' ~ output},
            tolerance='points',
            description='Aroon ' ~ output ~ ' ' ~ period ~ ': 100 x (' ~ period ~ ' - bars since the '
                ~ extreme ~ ' ' ~ side ~ ' of ' ~ (period + 1) ~ ' bars) / ' ~ period ~ '.')) -%}
    {%- endfor -%}
    {{ return(indicator_declaration(
        columns=columns, reach=period + 1, windows=windows, scans=scans,
        checks=['aroon_up_' ~ period ~ ' between 0 and 100 and aroon_down_' ~ period ~ ' between 0 and 100'],
        arguments={'period': "the period n (the window is n + 1 bars)"},
        notes='over n + 1 bars; when the extreme repeats, the latest one counts')) }}
{% endmacro %}
