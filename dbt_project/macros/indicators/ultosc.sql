{% macro indicator_ultosc(period1=7, period2=14, period3=28) %}
    {#- talib.ULTOSC(high, low, close, 7, 14, 28): buying pressure over true range on three
        windows, weighted 4:2:1; a window's term counts 0 when its true-range sum is 0 -#}
    {%- set buying_pressure -%}
        close_f - least(low_f, previous_close)
    {%- endset -%}
    {%- set windows = {} -%}
    {%- for n in [period1, period2, period3] -%}
        {%- do windows.update({'buying_pressure_' ~ n: ti_moving_sum('running_buying_pressure', n),
                               'true_range_' ~ n: ti_moving_sum('running_true_range', n)}) -%}
    {%- endfor -%}
    {%- set value -%}
        100 * ((
            case when true_range_{{ period1 }} = 0 then 0::float8
                else 4 * (buying_pressure_{{ period1 }} / true_range_{{ period1 }}) end
            + case when true_range_{{ period2 }} = 0 then 0::float8
                else 2 * (buying_pressure_{{ period2 }} / true_range_{{ period2 }}) end
            + case when true_range_{{ period3 }} = 0 then 0::float8
                else buying_pressure_{{ period3 }} / true_range_{{ period3 }} end
        ) / 7)
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'ultosc', first_bar=period3 + 1, value=value,
            talib={'function': 'ULTOSC', 'inputs': ['high', 'low', 'close'],
                   'parameters': {'timeperiod1': period1, 'timeperiod2': period2, 'timeperiod3': period3}},
            tolerance='points',
            description='Ultimate oscillator over ' ~ period1 ~ ', ' ~ period2 ~ ' and ' ~ period3 ~ ' bars.')],
        parts=[indicator_true_range_part(), indicator_previous_close_part()], reach=period3 + 1,
        terms={'buying_pressure': buying_pressure},
        running_sums={'running_buying_pressure': 'buying_pressure'},
        windows=windows,
        checks=['ultosc between -1e-9 and 100 + 1e-9'],
        arguments={'period1': "the shortest window (7)", 'period2': "the middle window (14)", 'period3': "the longest window (28)"},
        notes='a window\'s term counts 0 when its true-range sum is 0')) }}
{% endmacro %}
