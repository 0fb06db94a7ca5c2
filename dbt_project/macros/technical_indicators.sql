{#-
  Technical indicators, as TA-Lib (Classic mode) computes them, over each symbol's bar series.

  input: one row per symbol and bar, with columns
    symbol, <order_by> (time), bar_number (1 = the symbol's first bar, consecutive), is_output
    (false for look-back rows), high, low, close, volume, source_loaded_at,
    state_bar_number (bar number of the carried row: the last look-back row; 0 when computing
    from bar 1) and, on look-back rows only (null elsewhere), what was stored for them:
    every column named in indicator_running_sums() and, per recursive quantity q in
    indicator_recursions(), state_<q>_prefix and state_<q>_anchor; on output rows of an
    incremental run, indicator_fetched_columns() (the stored running_close p bars back, null
    where that bar is not stored). Look-back rows are stored rows of the same computation; they
    must cover indicator_window_reach() bars.

  Everything is O(1) per row and shares one sort order (symbol, block, bar_number): moving means
  are differences of running sums (centred on the symbol's first close), recursive averages come
  from linear_recurrences with TA-Lib's seeds. Running sums continue from the carried row the way
  the next addition would, so an incremental run is bit-identical to a full refresh.
  Returns one row per output bar: the indicators plus the state to carry.
-#}

{% macro indicator_stored_columns() %}
    {#- what an incremental run reads back from a stored row -#}
    {%- set stored = indicator_running_sums().keys() | list -%}
    {%- for p in indicator_family('kama') -%}{%- do stored.append('kama_' ~ p) -%}{%- endfor -%}
    {%- if indicator_has('sar') -%}
        {%- for c in ['is_long', 'value', 'ep', 'af'] -%}{%- do stored.append('state_sar_' ~ c) -%}{%- endfor -%}
    {%- endif -%}
    {%- for q in indicator_recursions() -%}
        {%- do stored.append('state_' ~ q ~ '_prefix') -%}
        {%- do stored.append('state_' ~ q ~ '_anchor') -%}
    {%- endfor -%}
    {{ return(stored) }}
{% endmacro %}

{% macro indicator_fetched_columns() %}
    {#- what an incremental run fetches by bar number for each output row (null elsewhere): the
        stored running_close of the bar p bars back, for each mean period p beyond the window
        reach -#}
    {%- set fetched = [] -%}
    {%- for p in indicator_fetched_lags() -%}{%- do fetched.append('lagged_running_close_' ~ p) -%}{%- endfor -%}
    {{ return(fetched) }}
{% endmacro %}

{% macro indicator_no_carried_state() -%}
    {#- the input columns of a series computed from its first bar: nothing carried -#}
    0::bigint as state_bar_number,
    {%- for c in indicator_stored_columns() + indicator_fetched_columns() %}
    null::float8 as {{ c }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro ti_impulse(seed_bar, seed, k, x) -%}
    case
        when bar_number = {{ seed_bar }} then {{ seed }}
        when bar_number > {{ seed_bar }} then ({{ k }}) * ({{ x }})
        else 0::float8
    end
{%- endmacro %}

{% macro ti_carry(q, carried) -%}
    {%- if not carried -%}
    0::float8 as {{ q }}_prefix0,
    0::float8 as {{ q }}_anchor0
    {%- else -%}
    coalesce(max(state_{{ q }}_prefix) filter (where bar_number = state_bar_number)
                 over (partition by symbol), 0) as {{ q }}_prefix0,
    coalesce(max(state_{{ q }}_anchor) filter (where bar_number = state_bar_number)
                 over (partition by symbol), 0) as {{ q }}_anchor0
    {%- endif -%}
{%- endmacro %}

{% macro ti_moving_sum(running_sum, n) -%}
    {#- the sum of the last n terms of a running sum (short windows: n within the window reach) -#}
    ({{ running_sum }} - lag({{ running_sum }}, {{ n }}, 0::float8) over w_time)
{%- endmacro %}

{% macro ti_mean(running_sum, n, carried=false) -%}
    {#- the mean of the last n terms of a running sum; an incremental run reads the running sum n
        bars back from its input rows when they reach that far, else from the value fetched by
        bar number (indicator_fetched_lags), else (before the first bar) 0 -#}
    {%- if carried and running_sum == 'running_close' and n in indicator_fetched_lags() -%}
    ({{ running_sum }} - coalesce(lag({{ running_sum }}, {{ n }}) over w_time,
                                  lagged_running_close_{{ n }}, 0::float8)) / {{ n }}
    {%- else -%}
    {{ ti_moving_sum(running_sum, n) }} / {{ n }}
    {%- endif -%}
{%- endmacro %}

{% macro ti_window(expr, rows, fn='sum') -%}
    {{ fn }}({{ expr }}) over (w_time rows between {{ rows - 1 }} preceding and current row)
{%- endmacro %}

{% macro ti_running_sum(expr) -%}
    sum({{ expr }}) over (w_time rows unbounded preceding)
{%- endmacro %}

{% macro ti_value_at_state(q) -%}
    {#- a recursive quantity's value on the carried row, from its stored state (the same
        operations that computed it there) -#}
    (power({{ q.decay }}, {{ recurrence_position('state_step') }}) * {{ q.name }}_prefix0
     + power({{ q.decay }}, {{ recurrence_position('state_step') }}) * {{ q.name }}_anchor0)
{%- endmacro %}

{% macro technical_indicators(input, order_by='trade_date', carried=true) %}
{%- set passes = indicator_recursion_passes() %}
{%- set recursions = indicator_recursions() %}
{%- set sums = indicator_running_sums() %}
{%- set outputs = indicator_columns() %}
{%- set chain_2 = indicator_union(['dema', 'tema', 'trix']) %}
{%- set chain_3 = indicator_union(['tema', 'trix']) %}
{%- set ema_periods = indicator_union(['ema', 'dema', 'tema', 'trix']) %}
{%- set mean_periods = indicator_mean_periods() %}
{%- set in_time = 'partition by symbol order by ti_block, bar_number' %}
{%- set exprs = {} %}
{%- for p in indicator_family('sma') %}
    {%- do exprs.update({'sma_' ~ p: 'case when bar_number >= ' ~ p ~ ' then mean_close_' ~ p ~ ' end'}) %}
{%- endfor %}
{%- for p in indicator_family('ema') %}
    {%- do exprs.update({'ema_' ~ p: 'case when bar_number >= ' ~ p ~ ' then ema_' ~ p ~ ' end'}) %}
{%- endfor %}
{%- do exprs.update({
    'macd': 'case when bar_number >= 34 then macd_line end',
    'macd_signal': 'case when bar_number >= 34 then macd_signal end',
    'macd_hist': 'case when bar_number >= 34 then macd_line - macd_signal end',
    'bb_upper': 'case when bar_number >= 20 then mean_close_20 + 2 * '
        ~ 'case when variance_close_20 <= 0 or flat_close_20 then 0::float8 else sqrt(variance_close_20) end end',
    'bb_middle': 'case when bar_number >= 20 then mean_close_20 end',
    'bb_lower': 'case when bar_number >= 20 then mean_close_20 - 2 * '
        ~ 'case when variance_close_20 <= 0 or flat_close_20 then 0::float8 else sqrt(variance_close_20) end end',
    'obv': 'obv',
    'ad': 'ad',
    'volatility_20': 'case when bar_number >= 21 then '
        ~ 'sqrt(greatest(variance_return_20, 0)) * sqrt(252::float8) end',
    'stoch_slowk': 'case when bar_number >= 18 then stoch_slowk_raw end',
    'stoch_slowd': 'case when bar_number >= 18 then stoch_slowd_raw end',
    'ultosc': 'case when bar_number >= 29 then 100 * (('
        ~ 'case when true_range_7 = 0 then 0::float8 else 4 * (buying_pressure_7 / true_range_7) end'
        ~ ' + case when true_range_14 = 0 then 0::float8 else 2 * (buying_pressure_14 / true_range_14) end'
        ~ ' + case when true_range_28 = 0 then 0::float8 else buying_pressure_28 / true_range_28 end'
        ~ ') / 7) end',
    'adosc': 'case when bar_number >= 10 then adosc_fast - adosc_slow end',
}) %}
{%- for n in indicator_family('rsi') %}
    {%- do exprs.update({'rsi_' ~ n: 'case when bar_number < ' ~ (n + 1) ~ ' then null'
        ~ ' when avg_gain_' ~ n ~ ' + avg_loss_' ~ n ~ ' = 0 then 0::float8'
        ~ ' else 100 * (avg_gain_' ~ n ~ ' / (avg_gain_' ~ n ~ ' + avg_loss_' ~ n ~ ')) end'}) %}
{%- endfor %}
{%- for n in indicator_family('atr') %}
    {%- do exprs.update({'atr_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then atr_' ~ n ~ ' end'}) %}
{%- endfor %}
{%- for n in indicator_family('natr') %}
    {%- do exprs.update({'natr_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then case when close_f = 0'
        ~ ' then 0::float8 else (atr_' ~ n ~ ' / close_f) * 100 end end'}) %}
{%- endfor %}
{%- for n in indicator_family('willr') %}
    {%- do exprs.update({'willr_' ~ n: 'case when bar_number >= ' ~ n ~ ' then case when (highest_' ~ n
        ~ ' - lowest_' ~ n ~ ') / (-100) <> 0 then (highest_' ~ n ~ ' - close_f) / ((highest_' ~ n
        ~ ' - lowest_' ~ n ~ ') / (-100)) else 0::float8 end end'}) %}
{%- endfor %}
{%- for n in indicator_family('cci') %}
    {%- do exprs.update({'cci_' ~ n: 'case when bar_number >= ' ~ n ~ ' then case when abs(typical_price - mean_typical_price_'
        ~ n ~ ') > 1e-14 * abs(mean_typical_price_' ~ n ~ ') and mean_deviation_' ~ n ~ ' > 1e-14 * abs(mean_typical_price_' ~ n
        ~ ') then (typical_price - mean_typical_price_' ~ n
        ~ ') / (0.015 * mean_deviation_' ~ n ~ ') else 0::float8 end end'}) %}
{%- endfor %}
{%- for n in indicator_family('adx') %}
    {%- do exprs.update({
        'adx_' ~ n: 'case when bar_number >= ' ~ (2 * n) ~ ' then adx_' ~ n ~ ' end',
        'plus_di_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then plus_di_raw_' ~ n ~ ' end',
        'minus_di_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then minus_di_raw_' ~ n ~ ' end'}) %}
{%- endfor %}
{%- for n in indicator_family('mfi') %}
    {%- do exprs.update({'mfi_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then case when money_flow_up_' ~ n
        ~ ' + money_flow_down_' ~ n ~ ' <= 0 then 0::float8 else 100 * (money_flow_up_' ~ n
        ~ ' / (money_flow_up_' ~ n ~ ' + money_flow_down_' ~ n ~ ')) end end'}) %}
{%- endfor %}
{%- for n in indicator_family('mom') %}
    {%- do exprs.update({'mom_' ~ n: 'close_f - close_lag_' ~ n}) %}
{%- endfor %}
{%- for n in indicator_family('roc') %}
    {%- do exprs.update({'roc_' ~ n: 'case when close_lag_' ~ n ~ ' <> 0 then ((close_f / close_lag_' ~ n
        ~ ') - 1) * 100 when close_lag_' ~ n ~ ' = 0 then 0::float8 end'}) %}
{%- endfor %}
{%- for n in indicator_family('aroon') %}
    {%- do exprs.update({
        'aroon_up_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then (100::float8 / ' ~ n ~ ') * ('
            ~ n ~ ' - bars_since_high_' ~ n ~ ') end',
        'aroon_down_' ~ n: 'case when bar_number >= ' ~ (n + 1) ~ ' then (100::float8 / ' ~ n ~ ') * ('
            ~ n ~ ' - bars_since_low_' ~ n ~ ') end'}) %}
{%- endfor %}
{%- for n in indicator_family('wma') %}
    {%- do exprs.update({'wma_' ~ n: 'case when bar_number >= ' ~ n ~ ' then wma_' ~ n ~ ' end'}) %}
{%- endfor %}
{%- for p in indicator_family('dema') %}
    {%- do exprs.update({'dema_' ~ p: 'case when bar_number >= ' ~ (2 * p - 1) ~ ' then 2 * ema_' ~ p
        ~ ' - ema_ema_' ~ p ~ ' end'}) %}
{%- endfor %}
{%- for p in indicator_family('tema') %}
    {%- do exprs.update({'tema_' ~ p: 'case when bar_number >= ' ~ (3 * p - 2) ~ ' then 3 * ema_' ~ p
        ~ ' - 3 * ema_ema_' ~ p ~ ' + ema_ema_ema_' ~ p ~ ' end'}) %}
{%- endfor %}
{%- do exprs.update({'sar': 'sar_state[7]'}) %}
{%- for p in indicator_family('kama') %}
    {%- do exprs.update({'kama_' ~ p: 'case when bar_number > ' ~ p ~ ' then kama_scanned_' ~ p ~ ' end'}) %}
{%- endfor %}
{%- for p in indicator_family('trix') %}
    {%- do exprs.update({'trix_' ~ p: 'case when bar_number >= ' ~ (3 * p - 1) ~ ' then case when previous_ema_ema_ema_'
        ~ p ~ ' <> 0 then ((ema_ema_ema_' ~ p ~ ' / previous_ema_ema_ema_' ~ p ~ ') - 1) * 100 else 0::float8 end end'}) %}
{%- endfor %}

{#- the outputs computed from the recurrences (in ti_final, after the join); the others are final
    in ti_output_rows, before it -#}
{%- set recursive_outputs = [] %}
{%- for p in indicator_family('ema') %}{%- do recursive_outputs.append('ema_' ~ p) %}{%- endfor %}
{%- if indicator_has('macd') %}{%- do recursive_outputs.extend(['macd', 'macd_signal', 'macd_hist']) %}{%- endif %}
{%- for f in ['rsi', 'atr', 'natr', 'dema', 'tema', 'trix'] %}
    {%- for p in indicator_family(f) %}{%- do recursive_outputs.append(f ~ '_' ~ p) %}{%- endfor %}
{%- endfor %}
{%- for n in indicator_family('adx') %}
    {%- do recursive_outputs.extend(['adx_' ~ n, 'plus_di_' ~ n, 'minus_di_' ~ n]) %}
{%- endfor %}
{%- if indicator_has('adosc') %}{%- do recursive_outputs.append('adosc') %}{%- endif %}
with

ti_base as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        {{ recurrence_block('bar_number') }} as ti_block,
        is_output,
        high::float8 as high_f,
        low::float8 as low_f,
        close::float8 as close_f,
        volume::float8 as volume_f,
        source_loaded_at,
        state_bar_number,
        {%- for name in sums %}
        {{ name }} as stored_{{ name }},
        {%- endfor %}
        {%- for p in indicator_family('kama') %}
        kama_{{ p }} as stored_kama_{{ p }},
        {%- endfor %}
        {%- if indicator_has('sar') %}
        {%- for c in ['is_long', 'value', 'ep', 'af'] %}
        state_sar_{{ c }} as stored_sar_{{ c }},
        {%- endfor %}
        {%- endif %}
        {%- for c in indicator_fetched_columns() %}
        {{ c }},
        {%- endfor %}
        {%- for q in recursions %}
        state_{{ q }}_prefix,
        state_{{ q }}_anchor{{ "," if not loop.last }}
        {%- endfor %}
    from {{ input }}

),

ti_steps as (

    select
        *,
        close_f - lag(close_f) over w_time as change,
        lag(close_f) over w_time as previous_close,
        -- greatest()/least() ignore nulls: no true range without a previous close
        case when lag(close_f) over w_time is not null then
            greatest(high_f, lag(close_f) over w_time) - least(low_f, lag(close_f) over w_time)
        end as true_range,
        ln(close_f / lag(close_f) over w_time) as log_return,
        (high_f + low_f + close_f) / 3 as typical_price,
        (lag(high_f) over w_time + lag(low_f) over w_time + lag(close_f) over w_time) / 3
            as previous_typical_price,
        high_f - lag(high_f) over w_time as up_move,
        lag(low_f) over w_time - low_f as down_move,
        {%- if carried %}
        {%- for name, term in sums.items() if term %}
        -- what the carried row stored (reaches only the first output row)
        lag(stored_{{ name }}) over w_time as carried_{{ name }},
        {%- endfor %}
        coalesce(max(stored_anchor_close) over (partition by symbol),
                 first_value(close_f) over w_time) as anchor_close
        {%- else %}
        first_value(close_f) over w_time as anchor_close
        {%- endif %}
    from ti_base
    window w_time as ({{ in_time }})

),

ti_terms as (

    select
        *,
        case when change is not null then greatest(change, 0) end as gain,
        case when change is not null then greatest(-change, 0) end as loss,
        case
            when bar_number = 1 then volume_f
            when change > 0 then volume_f
            when change < 0 then -volume_f
            else 0::float8
        end as obv_step,
        -- talib.AD: the close location value times volume, 0 on a bar without range
        case when high_f - low_f > 0
            then (((close_f - low_f) - (high_f - close_f)) / (high_f - low_f)) * volume_f
            else 0::float8
        end as ad_step,
        -- directional movement (talib.PLUS_DM / MINUS_DM with period 1)
        case when up_move > 0 and up_move > down_move then up_move else 0::float8 end as plus_dm,
        case when down_move > 0 and up_move < down_move then down_move else 0::float8
        end as minus_dm,
        -- money flow of talib.MFI, by the move of the typical price; no flow when the move is
        -- within 1e-14 of the two prices' magnitude (TA_IS_ZERO_SCALED, a tie)
        case when abs(typical_price - previous_typical_price)
                  > 1e-14 * (abs(typical_price) + abs(previous_typical_price))
                 and typical_price > previous_typical_price
            then typical_price * volume_f else 0::float8 end as money_flow_up,
        case when abs(typical_price - previous_typical_price)
                  > 1e-14 * (abs(typical_price) + abs(previous_typical_price))
                 and typical_price < previous_typical_price
            then typical_price * volume_f else 0::float8 end as money_flow_down,
        -- buying pressure of talib.ULTOSC: close - min(low, previous close)
        close_f - least(low_f, previous_close) as buying_pressure
    -- no window function here: PostgreSQL folds this into the next pass
    from ti_steps

),

ti_running as (

    select
        *,
        {%- for name, term in sums.items() if term %}
        -- stored on look-back rows; on output rows the sum goes on from the carried row
        {%- if carried %}
        case when is_output then
            sum(coalesce({{ term }}, 0)
                + case when bar_number = state_bar_number + 1
                       then coalesce(carried_{{ name }}, 0) else 0 end)
                filter (where is_output) over running
        else stored_{{ name }} end
        {%- else %}
        sum(coalesce({{ term }}, 0)) over running
        {%- endif %} as {{ name }},
        {%- endfor %}
        {%- if indicator_has('adx') %}
        -- the seeds of +DM/-DM (at bar n, the sum of bars 2..n; bar 1 has none); never reached
        -- by an incremental run
        sum(plus_dm) over running as seed_sum_plus_dm,
        sum(minus_dm) over running as seed_sum_minus_dm,
        {%- endif %}
        true as ti_ran
    from ti_terms
    window running as ({{ in_time }} rows unbounded preceding)

),

ti_impulses as (

    select
        *,
        state_bar_number as state_step,
        {%- for p in mean_periods %}
        anchor_close + {{ ti_mean('running_close', p, carried) }} as mean_close_{{ p }},
        {%- endfor %}
        {%- if indicator_has('bbands') %}
        {{ ti_mean('running_close_sq', 20) }}
            - {{ ti_mean('running_close', 20) }} * {{ ti_mean('running_close', 20) }}
            as variance_close_20,
        -- no change in the 20 closes: the variance is 0, whatever the running sums' rounding
        running_abs_change - lag(running_abs_change, 19, 0::float8) over w_time = 0
            as flat_close_20,
        {%- endif %}
        ({{ ti_mean('running_return_sq', 20) }}
         - {{ ti_mean('running_return', 20) }} * {{ ti_mean('running_return', 20) }})
            * 20 / 19 as variance_return_20,
        {%- for n in indicator_family('rsi') %}
        {{ ti_mean('running_gain', n) }} as mean_gain_{{ n }},
        {{ ti_mean('running_loss', n) }} as mean_loss_{{ n }},
        {%- endfor %}
        {%- for n in indicator_union(['atr', 'natr']) %}
        {{ ti_mean('running_true_range', n) }} as mean_true_range_{{ n }},
        {%- endfor %}
        {%- for n in (indicator_family('mom') + indicator_family('roc')) | unique %}
        lag(close_f, {{ n }}) over w_time as close_lag_{{ n }},
        {%- endfor %}
        {%- for n in indicator_family('wma') %}
        ({% for i in range(n) %}{{ n - i }} * lag(close_f, {{ i }}) over w_time
            {{- " + " if not loop.last }}{% endfor %}) / {{ (n * (n + 1)) // 2 }} as wma_{{ n }},
        {%- endfor %}
        {%- for n in (indicator_family('willr') + ([14] if indicator_has('stoch') else [])) | unique %}
        {{ ti_window('high_f', n, 'max') }} as highest_{{ n }},
        {{ ti_window('low_f', n, 'min') }} as lowest_{{ n }},
        {%- endfor %}
        {%- for n in indicator_family('aroon') %}
        {{ ti_window('high_f', n + 1, 'max') }} as aroon_highest_{{ n }},
        {{ ti_window('low_f', n + 1, 'min') }} as aroon_lowest_{{ n }},
        {%- endfor %}
        {%- for n in indicator_family('cci') %}
        -- the same additions, oldest first, as a frame sum, without a window pass of its own
        ({% for i in range(n - 1, -1, -1) %}lag(typical_price, {{ i }}) over w_time
            {{- " + " if not loop.last }}{% endfor %}) / {{ n }} as mean_typical_price_{{ n }},
        {%- endfor %}
        {%- for n in indicator_family('mfi') %}
        {{ ti_moving_sum('running_money_flow_up', n) }} as money_flow_up_{{ n }},
        {{ ti_moving_sum('running_money_flow_down', n) }} as money_flow_down_{{ n }},
        {%- endfor %}
        {%- if indicator_has('ultosc') %}
        {%- for n in [7, 14, 28] %}
        {{ ti_moving_sum('running_buying_pressure', n) }} as buying_pressure_{{ n }},
        {{ ti_moving_sum('running_true_range', n) }} as true_range_{{ n }},
        {%- endfor %}
        {%- endif %}
        {%- if indicator_has('sar') %}
        case when lag(stored_sar_is_long) over w_time is not null then array[
            lag(stored_sar_is_long) over w_time, lag(stored_sar_value) over w_time,
            lag(stored_sar_ep) over w_time, lag(stored_sar_af) over w_time,
            lag(high_f) over w_time, lag(low_f) over w_time, null]::float8[]
        end as sar_carried,
        {%- endif %}
        {%- for p in indicator_family('kama') %}
        -- talib.KAMA's smoothing constant: (efficiency ratio x (2/3 - 2/(p+1)) + 2/(p+1))^2
        {%- set path = ti_moving_sum('running_abs_change', p) %}
        {%- set er = '(case when ' ~ path ~ ' <= close_f - lag(close_f, ' ~ p
            ~ ') over w_time or ' ~ path ~ ' = 0 then 1::float8 else abs((close_f - lag(close_f, '
            ~ p ~ ') over w_time) / ' ~ path ~ ') end * (2::float8 / 3 - 2::float8 / '
            ~ (p + 1) ~ ') + 2::float8 / ' ~ (p + 1) ~ ')' %}
        {{ er }} * {{ er }} as kama_smoothing_{{ p }},
        -- the scan starts from the previous close (TA-Lib) or from the carried row's KAMA
        coalesce(lag(stored_kama_{{ p }}) over w_time, previous_close) as kama_initial_{{ p }},
        {%- endfor %}
        {%- for n in indicator_family('adx') %}
        -- talib.PLUS_DI/MINUS_DI seed their smoothing with the plain sum of bars 2..n
        seed_sum_plus_dm as plus_dm_seed_{{ n }},
        seed_sum_minus_dm as minus_dm_seed_{{ n }},
        running_true_range as true_range_seed_{{ n }},
        {%- endfor %}
        {%- for q in recursions %}
        {{ ti_carry(q, carried) }}{{ "," if not loop.last }}
        {%- endfor %}
    from ti_running
    window w_time as ({{ in_time }})

),

ti_windows as (

    select
        *,
        {%- for n in indicator_family('cci') %}
        ({% for i in range(n) %}abs(lag(typical_price, {{ i }}) over w_time - mean_typical_price_{{ n }})
            {{- " + " if not loop.last }}{% endfor %}) / {{ n }} as mean_deviation_{{ n }},
        {%- endfor %}
        {%- for n in indicator_family('aroon') %}
        {%- for side, extreme in [('high', 'highest'), ('low', 'lowest')] %}
        -- bars since the window's extreme; the latest one when it repeats (as TA-Lib)
        case
            {%- for i in range(n + 1) %}
            when lag({{ side }}_f, {{ i }}) over w_time = aroon_{{ extreme }}_{{ n }} then {{ i }}
            {%- endfor %}
        end as bars_since_{{ side }}_{{ n }},
        {%- endfor %}
        {%- endfor %}
        {%- if indicator_has('sar') %}
        -- talib.SAR(high, low, 0.02, 0.2): an ordered scan; an incremental run starts it from
        -- the carried row's stored state
        udf.sar_scan(high_f, low_f, 0.02::float8, 0.2::float8, sar_carried)
            filter (where is_output) over (w_time rows unbounded preceding) as sar_state,
        {%- endif %}
        {%- for p in indicator_family('kama') %}
        udf.kama_scan(close_f, kama_smoothing_{{ p }}, kama_initial_{{ p }})
            filter (where is_output and bar_number > {{ p }})
            over (w_time rows unbounded preceding) as kama_scanned_{{ p }},
        {%- endfor %}
        {%- if indicator_has('stoch') %}
        -- talib.STOCH: fast %K (0 on a window without range), slow %K its 3-bar SMA and slow %D
        -- the 3-bar SMA of that, written out from the lags of fast %K's inputs (the same
        -- additions, oldest first, as the 3-row frame averages) so that they take no window pass
        {%- set fk = [] %}
        {%- for i in range(5) %}
            {%- set h, l, c = 'lag(highest_14, ' ~ i ~ ') over w_time', 'lag(lowest_14, ' ~ i ~ ') over w_time', 'lag(close_f, ' ~ i ~ ') over w_time' %}
            {%- do fk.append('(case when (' ~ h ~ ' - ' ~ l ~ ') / 100 <> 0 then (' ~ c ~ ' - ' ~ l ~ ') / ((' ~ h ~ ' - ' ~ l ~ ') / 100) else 0::float8 end)') %}
        {%- endfor %}
        {%- set slowk = [] %}
        {%- for i in range(3) %}
            {%- do slowk.append('((' ~ fk[i + 2] ~ ' + ' ~ fk[i + 1] ~ ' + ' ~ fk[i] ~ ') / 3)') %}
        {%- endfor %}
        {{ slowk[0] }} as stoch_slowk_raw,
        ({{ slowk[2] }} + {{ slowk[1] }} + {{ slowk[0] }}) / 3 as stoch_slowd_raw,
        {%- endif %}
        true as ti_windowed
    from ti_impulses
    window w_time as ({{ in_time }})

),

-- one row per output bar, narrowed to what comes after: the outputs that need no recurrence
-- (final here), the impulses of the recurrences and the state to store. Its columns are listed,
-- so the window passes below carry only what is used (it is read twice, so it is materialised,
-- and a materialised CTE keeps every column it names).
ti_output_rows as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        ti_block,
        state_step,
        close_f,
        high_f,
        low_f,
        volume_f,
        source_loaded_at,
        {%- for c in outputs if c not in recursive_outputs %}
        {{ exprs[c] }} as {{ c }},
        {%- endfor %}
        {%- for name in sums if name not in outputs %}
        {{ name }},
        {%- endfor %}
        {%- if indicator_has('sar') %}
        sar_state[1] as state_sar_is_long,
        sar_state[2] as state_sar_value,
        sar_state[3] as state_sar_ep,
        sar_state[4] as state_sar_af,
        {%- endif %}
        {%- for q in recursions %}
        {{ q }}_prefix0,
        {{ q }}_anchor0,
        {%- endfor %}
        {%- for p in ema_periods %}
        {{ ti_impulse(p, 'mean_close_' ~ p, '2::float8 / ' ~ (p + 1), 'close_f') }}
            as ema_{{ p }}_impulse,
        {%- endfor %}
        {%- if indicator_has('macd') %}
        -- talib.MACD seeds its fast EMA on the 12 closes ending at the slow seed's bar (26)
        {{ ti_impulse(26, 'mean_close_12', '2::float8 / 13', 'close_f') }}
            as macd_fast_ema_impulse,
        {%- endif %}
        {%- for n in indicator_family('rsi') %}
        {{ ti_impulse(n + 1, 'mean_gain_' ~ n, '1::float8 / ' ~ n, 'gain') }}
            as avg_gain_{{ n }}_impulse,
        {{ ti_impulse(n + 1, 'mean_loss_' ~ n, '1::float8 / ' ~ n, 'loss') }}
            as avg_loss_{{ n }}_impulse,
        {%- endfor %}
        {%- for n in indicator_union(['atr', 'natr']) %}
        {{ ti_impulse(n + 1, 'mean_true_range_' ~ n, '1::float8 / ' ~ n, 'true_range') }}
            as atr_{{ n }}_impulse,
        {%- endfor %}
        {%- for n in indicator_family('adx') %}
        {{ ti_impulse(n, 'plus_dm_seed_' ~ n, '1::float8', 'plus_dm') }} as plus_dm_{{ n }}_impulse,
        {{ ti_impulse(n, 'minus_dm_seed_' ~ n, '1::float8', 'minus_dm') }}
            as minus_dm_{{ n }}_impulse,
        {{ ti_impulse(n, 'true_range_seed_' ~ n, '1::float8', 'true_range') }}
            as tr_sum_{{ n }}_impulse,
        {%- endfor %}
        {%- if indicator_has('adosc') %}
        -- talib.ADOSC seeds both EMAs with the first bar's AD
        {{ ti_impulse(1, 'ad', '2::float8 / 4', 'ad') }} as adosc_fast_impulse,
        {{ ti_impulse(1, 'ad', '2::float8 / 11', 'ad') }} as adosc_slow_impulse,
        {%- endif %}
        true as ti_impulsed
    from ti_windows
    where is_output

),

-- the recurrences run on a narrow relation of their own (keys, carried state, impulses): each of
-- their window passes costs by the width of its rows; ti_final joins them back
ti_impulse_values as (

    select
        symbol,
        ti_block,
        bar_number,
        state_step,
        {%- for q in recursions %}
        {{ q }}_prefix0,
        {{ q }}_anchor0,
        {%- endfor %}
        {%- for q in passes[0] %}
        {{ q.name }}_impulse,
        {%- endfor %}
        true as ti_impulsed
    from ti_output_rows

),

ti_recursive as (

    {{ linear_recurrences('ti_impulse_values', step='bar_number', carried=carried,
                          quantities=passes[0]) }}

),

ti_first_pass as (

    select
        *,
        {%- if indicator_has('macd') %}
        case when bar_number >= 26 then macd_fast_ema - ema_26 end as macd_line,
        {%- endif %}
        {%- for n in indicator_family('adx') %}
        case when tr_sum_{{ n }} = 0 then 0::float8
             else 100 * (plus_dm_{{ n }} / tr_sum_{{ n }}) end as plus_di_raw_{{ n }},
        case when tr_sum_{{ n }} = 0 then 0::float8
             else 100 * (minus_dm_{{ n }} / tr_sum_{{ n }}) end as minus_di_raw_{{ n }},
        {%- endfor %}
        true as ti_first_passed
    from ti_recursive

),

ti_second_input as (

    select
        *,
        {%- if indicator_has('macd') %}
        -- the signal's seed (bar 34) is the mean of the first 9 MACD values (bars 26..34);
        -- incremental runs never reach it (they continue from bar 200 on)
        {{ ti_impulse(34, ti_running_sum('macd_line') ~ ' / 9', '2::float8 / 10', 'macd_line') }}
            as macd_signal_impulse,
        {%- endif %}
        {%- for n in indicator_family('adx') %}
        -- talib.ADX seeds on the mean of the first n DX values (bars n+1..2n)
        {{ ti_impulse(2 * n, ti_running_sum('case when bar_number > ' ~ n ~ ' then dx_' ~ n ~ ' end')
                      ~ ' / ' ~ n, '1::float8 / ' ~ n, 'dx_' ~ n) }} as adx_{{ n }}_impulse,
        {%- endfor %}
        {%- for p in chain_2 %}
        -- the second EMA of DEMA/TEMA/TRIX seeds on the mean of the first p EMA values
        {{ ti_impulse(2 * p - 1, ti_running_sum('case when bar_number >= ' ~ p ~ ' then ema_' ~ p ~ ' end')
                      ~ ' / ' ~ p, '2::float8 / ' ~ (p + 1), 'ema_' ~ p) }}
            as ema_ema_{{ p }}_impulse,
        {%- endfor %}
        true as ti_second_input
    from (
        select
            *
            {%- for n in indicator_family('adx') %},
            case when plus_di_raw_{{ n }} + minus_di_raw_{{ n }} = 0 then 0::float8
                 else 100 * (abs(minus_di_raw_{{ n }} - plus_di_raw_{{ n }})
                             / (plus_di_raw_{{ n }} + minus_di_raw_{{ n }}))
            end as dx_{{ n }}
            {%- endfor %}
        from ti_first_pass
    ) as with_dx
    window w_time as ({{ in_time }})

),

ti_second_pass as (

    {{ linear_recurrences('ti_second_input', step='bar_number', carried=carried,
                          quantities=passes[1]) }}

),

ti_third_input as (

    select
        *,
        {%- for p in chain_3 %}
        {{ ti_impulse(3 * p - 2, ti_running_sum('case when bar_number >= ' ~ (2 * p - 1) ~ ' then ema_ema_' ~ p ~ ' end')
                      ~ ' / ' ~ p, '2::float8 / ' ~ (p + 1), 'ema_ema_' ~ p) }}
            as ema_ema_ema_{{ p }}_impulse,
        {%- endfor %}
        true as ti_third_input
    from ti_second_pass
    window w_time as ({{ in_time }})

),

ti_third_pass as (

    {%- if passes[2] %}
    {{ linear_recurrences('ti_third_input', step='bar_number', carried=carried,
                          quantities=passes[2]) }}
    {%- else %}
    select * from ti_third_input
    {%- endif %}

),

ti_previous as (

    select
        *
        {%- for q in passes[2] if q.name.startswith('ema_ema_ema_') %},
        {%- if carried %}
        coalesce(lag({{ q.name }}) over w_time, {{ ti_value_at_state(q) }})
        {%- else %}
        lag({{ q.name }}) over w_time
        {%- endif %} as previous_{{ q.name }}
        {%- endfor %}
    from ti_third_pass
    window w_time as ({{ in_time }})

),

ti_final as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        close_f as close,
        {%- for c in outputs %}
        {{ exprs[c] if c in recursive_outputs else c }} as {{ c }},
        {%- endfor %}
        -- what an incremental run reads back from a stored row
        high_f as high,
        low_f as low,
        volume_f as volume,
        {%- for name in sums if name not in outputs %}
        {{ name }},
        {%- endfor %}
        {%- if indicator_has('sar') %}
        state_sar_is_long,
        state_sar_value,
        state_sar_ep,
        state_sar_af,
        {%- endif %}
        {%- for q in recursions %}
        {{ q }}_prefix as state_{{ q }}_prefix,
        {{ q }}_anchor as state_{{ q }}_anchor,
        {%- endfor %}
        source_loaded_at
    from ti_output_rows
    inner join ti_previous using (symbol, ti_block, bar_number)

)

select * from ti_final
{% endmacro %}
