{% macro indicator_kama(period) %}
    {#- talib.KAMA(close, n): an EMA whose factor follows the n-bar efficiency ratio, an ordered
        scan (udf.kama_scan) from the close of bar n, or from the carried row's KAMA. TA-Lib's
        smoothing constants are fixed: the fastest 2 / (2 + 1), the slowest 2 / (30 + 1), whatever
        the period. -#}
    {%- set path -%}
        {{ ti_moving_sum('running_abs_change', period) }}
    {%- endset -%}
    {%- set move -%}
        close_f - lag(close_f, {{ period }}) over w_time
    {%- endset -%}
    {%- set ratio -%}
        (case when {{ path }} <= {{ move }} or {{ path }} = 0 then 1::float8
            else abs(({{ move }}) / {{ path }}) end * (2::float8 / 3 - 2::float8 / 31) + 2::float8 / 31)
    {%- endset -%}
    {%- set smoothing -%}
        {{ ratio }} * {{ ratio }}
    {%- endset -%}
    {%- set initial -%}
        coalesce(lag(stored_kama_{{ period }}) over w_time, previous_close)
    {%- endset -%}
    {%- set scan -%}
        udf.kama_scan(close_f, kama_smoothing_{{ period }}, kama_initial_{{ period }})
            filter (where is_output and bar_number > {{ period }})
            over (w_time rows unbounded preceding)
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'kama_' ~ period, first_bar=period + 1, value='kama_scanned_' ~ period,
            talib={'function': 'KAMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Kaufman adaptive MA ' ~ period ~ ': an EMA whose factor follows the ' ~ period
                ~ '-bar efficiency ratio.')],
        parts=[indicator_change_part(), indicator_previous_close_part()], reach=period + 1,
        running_sums={'running_abs_change': 'abs(change)'},
        windows={'kama_smoothing_' ~ period: smoothing, 'kama_initial_' ~ period: initial},
        scans={'kama_scanned_' ~ period: scan},
        reads_back=['kama_' ~ period],
        arguments={'period': "the efficiency ratio's window n"},
        notes='starts from the close of bar n; efficiency ratio 1 when the n-bar move is at least the'
            ~ ' path (or the path is 0)')) }}
{% endmacro %}
