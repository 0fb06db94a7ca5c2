{% macro indicator_t3(period=5, vfactor=0.7) %}
    {#- talib.T3(close, n, v): Tillson's T3, c1 e6 + c2 e5 + c3 e4 + c4 e3 over a chain of six
        EMAs of the close (each seeded with the mean of the first n values of the one before, as
        TA-Lib seeds it); the coefficients computed in TA-Lib's order of operations -#}
    {%- set square = vfactor * vfactor -%}
    {%- set c1 = 0 - square * vfactor -%}
    {%- set c2 = 3.0 * (square - c1) -%}
    {%- set c3 = (0 - 6.0) * square - 3.0 * (vfactor - c1) -%}
    {%- set c4 = 1.0 + 3.0 * vfactor - c1 + 3.0 * square -%}
    {%- set value -%}
        ({{ c1 }})::float8 * ema6_{{ period }} + ({{ c2 }})::float8 * ema5_{{ period }}
            + ({{ c3 }})::float8 * ema4_{{ period }} + ({{ c4 }})::float8 * ema3_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            't3_' ~ period, first_bar=6 * (period - 1) + 1, value=value, recursive=true,
            talib={'function': 'T3', 'inputs': ['close'],
                   'parameters': {'timeperiod': period, 'vfactor': vfactor}},
            description='Tillson T3 ' ~ period ~ ' (volume factor ' ~ vfactor ~ '): a weighted sum of the'
                ~ ' last four of six chained EMAs ' ~ period ~ '.')],
        parts=[indicator_ema_chain_part(period, 6)],
        arguments={'period': "the EMAs' period n (5)", 'vfactor': "the volume factor v (0.7)"},
        notes='six chained EMAs, each seeded with the mean of the first n values of the one before;'
            ~ ' c1..c4 from the volume factor v as TA-Lib computes them')) }}
{% endmacro %}
