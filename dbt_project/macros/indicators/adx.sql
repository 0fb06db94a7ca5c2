{% macro indicator_adx(period) %}
    {#- talib.ADX, PLUS_DI, MINUS_DI: +DM, -DM and the true range Wilder-summed (x - x/n + new),
        seeded with their plain sums over bars 2..n; ADX the Wilder average of DX, seeded on bar
        2n with the mean of the first n DX (bars n+1..2n) -#}
    {%- set n = period -%}
    {%- set up_move -%}
        high_f - lag(high_f) over w_time
    {%- endset -%}
    {%- set down_move -%}
        lag(low_f) over w_time - low_f
    {%- endset -%}
    {%- set plus_dm -%}
        case when up_move > 0 and up_move > down_move then up_move else 0::float8 end
    {%- endset -%}
    {%- set minus_dm -%}
        case when down_move > 0 and up_move < down_move then down_move else 0::float8 end
    {%- endset -%}
    {%- set plus_di -%}
        case when tr_sum_{{ n }} = 0 then 0::float8 else 100 * (plus_dm_{{ n }} / tr_sum_{{ n }}) end
    {%- endset -%}
    {%- set minus_di -%}
        case when tr_sum_{{ n }} = 0 then 0::float8 else 100 * (minus_dm_{{ n }} / tr_sum_{{ n }}) end
    {%- endset -%}
    {%- set dx -%}
        case when plus_di_raw_{{ n }} + minus_di_raw_{{ n }} = 0 then 0::float8
            else 100 * (abs(minus_di_raw_{{ n }} - plus_di_raw_{{ n }})
                        / (plus_di_raw_{{ n }} + minus_di_raw_{{ n }}))
        end
    {%- endset -%}
    {%- set dx_after_seed -%}
        case when bar_number > {{ n }} then dx_{{ n }} end
    {%- endset -%}
    {%- set adx_seed -%}
        {{ ti_running_sum(dx_after_seed) }} / {{ n }}
    {%- endset -%}
    {%- set recursions = [] -%}
    {%- for name, seed, x in [('plus_dm', 'plus_dm_seed_', 'plus_dm'), ('minus_dm', 'minus_dm_seed_', 'minus_dm'),
                              ('tr_sum', 'true_range_seed_', 'true_range')] -%}
        {%- do recursions.append(indicator_recursion(
            name ~ '_' ~ n, indicator_wilder_decay(n), 1, ti_impulse(n, seed ~ n, '1::float8', x))) -%}
    {%- endfor -%}
    {%- do recursions.append(indicator_recursion(
        'adx_' ~ n, indicator_wilder_decay(n), 2,
        ti_impulse(2 * n, adx_seed, indicator_wilder_factor(n), 'dx_' ~ n))) -%}
    {%- set talib = {'inputs': ['high', 'low', 'close'], 'parameters': {'timeperiod': n}} -%}
    {{ return(indicator_declaration(
        columns=[
            indicator_column('adx_' ~ n, first_bar=2 * n, value='adx_' ~ n, recursive=true,
                             talib=dict(talib, function='ADX'), tolerance='points',
                             description='Average directional index ' ~ n ~ ' (Wilder; seeded with the mean of the first '
                                 ~ n ~ ' DX).'),
            indicator_column('plus_di_' ~ n, first_bar=n + 1, value='plus_di_raw_' ~ n, recursive=true,
                             talib=dict(talib, function='PLUS_DI'), tolerance='points',
                             description='+DI ' ~ n ~ ': Wilder-smoothed +DM / true range x 100.'),
            indicator_column('minus_di_' ~ n, first_bar=n + 1, value='minus_di_raw_' ~ n, recursive=true,
                             talib=dict(talib, function='MINUS_DI'), tolerance='points',
                             description='-DI ' ~ n ~ ': Wilder-smoothed -DM / true range x 100.'),
        ],
        parts=[indicator_true_range_part()], reach=1,
        steps={'up_move': up_move, 'down_move': down_move},
        terms={'plus_dm': plus_dm, 'minus_dm': minus_dm},
        seed_sums={'seed_sum_plus_dm': 'plus_dm', 'seed_sum_minus_dm': 'minus_dm'},
        windows={'plus_dm_seed_' ~ n: 'seed_sum_plus_dm', 'minus_dm_seed_' ~ n: 'seed_sum_minus_dm',
                 'true_range_seed_' ~ n: 'running_true_range'},
        recursions=recursions,
        checks=['adx_' ~ n ~ ' between -1e-9 and 100 + 1e-9 and plus_di_' ~ n ~ ' >= 0 and minus_di_' ~ n ~ ' >= 0'],
        derived={1: [{'plus_di_raw_' ~ n: plus_di, 'minus_di_raw_' ~ n: minus_di}, {'dx_' ~ n: dx}]},
        arguments={'period': "the Wilder period n"},
        notes='+DM/-DM/TR are seeded with the **sum** (not the mean) of bars 2..n and smoothed'
            ~ ' `x - x/n + new`; ADX seeds on the mean of the first n DX (bars n+1..2n); DI is 0 when'
            ~ ' the smoothed TR is exactly 0, DX when +DI + -DI is; TA-Lib leaves ADX unchanged on a bar'
            ~ ' without DX, which only happens while those sums are exactly 0 (before a series\' first'
            ~ ' move, where ADX is 0 and stays 0 either way)')) }}
{% endmacro %}
