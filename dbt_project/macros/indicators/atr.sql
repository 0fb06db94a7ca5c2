{% macro indicator_atr(period) %}
    {%- set value -%}
        atr_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'atr_' ~ period, first_bar=period + 1, value=value, recursive=true,
            talib={'function': 'ATR', 'inputs': ['high', 'low', 'close'], 'parameters': {'timeperiod': period}},
            description='Average true range, Wilder smoothing.')],
        parts=[indicator_atr_part(period)],
        checks=['atr_' ~ period ~ ' >= 0'],
        arguments={'period': "the Wilder period n"},
        notes='true range needs the previous close (none on bar 1); seeded with the mean of TR on bars 2..n+1')) }}
{% endmacro %}

{% macro indicator_atr_part(period) %}
    {#- talib.ATR: the true range Wilder-smoothed (1/n), seeded on bar n + 1 with its mean over
        bars 2..n+1; atr_<n> -#}
    {%- set seed -%}
        mean_true_range_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        parts=[indicator_true_range_part()], reach=period + 1,
        windows={'mean_true_range_' ~ period: ti_mean('running_true_range', period)},
        recursions=[indicator_recursion(
            'atr_' ~ period, indicator_wilder_decay(period), 1,
            ti_impulse(period + 1, seed, indicator_wilder_factor(period), 'true_range'))])) }}
{% endmacro %}
