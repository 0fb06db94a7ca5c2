{#-
  Technical indicators, as TA-Lib (Classic mode) computes them, over each symbol's bar series.

  input: one row per symbol and bar, with columns
    symbol, <order_by> (time), bar_number (1 = the symbol's first bar, consecutive), is_output
    (false for look-back rows), high, low, close, volume, source_loaded_at,
    state_bar_number (bar number of the carried row: the last look-back row; 0 when computing
    from bar 1) and, on look-back rows only (null elsewhere), what was stored for them:
    every column named in indicator_running_sums() and, per recursive quantity q in
    indicator_recursions(), state_<q>_prefix and state_<q>_anchor.
  Look-back rows are stored rows of the same computation; they must cover 200 bars.

  Everything is O(1) per row and shares one sort order (symbol, block, bar_number): moving means
  are differences of running sums (centred on the symbol's first close), recursive averages come
  from linear_recurrences with TA-Lib's seeds. Running sums continue from the carried row the way
  the next addition would, so an incremental run is bit-identical to a full refresh.
  Returns one row per output bar: the indicators plus the state to carry.
-#}

{% macro indicator_recursions() %}
    {{ return(['ema_12', 'ema_26', 'ema_50', 'ema_200', 'macd_fast_ema', 'avg_gain_14',
               'avg_loss_14', 'atr_14', 'macd_signal']) }}
{% endmacro %}

{% macro indicator_running_sums() %}
    {{ return({'anchor_close': none, 'running_close': 'close_f - anchor_close',
               'running_close_sq': '(close_f - anchor_close) * (close_f - anchor_close)',
               'running_return': 'log_return', 'running_return_sq': 'log_return * log_return',
               'running_gain': 'gain', 'running_loss': 'loss', 'running_true_range': 'true_range',
               'obv': 'obv_step'}) }}
{% endmacro %}

{% macro indicator_stored_columns() %}
    {#- what an incremental run reads back from a stored row -#}
    {%- set stored = indicator_running_sums().keys() | list -%}
    {%- for q in indicator_recursions() -%}
        {%- do stored.append('state_' ~ q ~ '_prefix') -%}
        {%- do stored.append('state_' ~ q ~ '_anchor') -%}
    {%- endfor -%}
    {{ return(stored) }}
{% endmacro %}

{% macro indicator_no_carried_state() -%}
    {#- the input columns of a series computed from its first bar: nothing carried -#}
    0::bigint as state_bar_number,
    {%- for c in indicator_stored_columns() %}
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

{% macro ti_mean(running_sum, n) -%}
    ({{ running_sum }} - lag({{ running_sum }}, {{ n }}, 0::float8) over w_time) / {{ n }}
{%- endmacro %}

{% macro technical_indicators(input, order_by='trade_date', carried=true) %}
{%- set ema_periods = [12, 26, 50, 200] %}
{%- set recursions = indicator_recursions() %}
{%- set sums = indicator_running_sums() %}
{%- set in_time = 'partition by symbol order by ti_block, bar_number' %}
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
        -- greatest()/least() ignore nulls: no true range without a previous close
        case when lag(close_f) over w_time is not null then
            greatest(high_f, lag(close_f) over w_time) - least(low_f, lag(close_f) over w_time)
        end as true_range,
        ln(close_f / lag(close_f) over w_time) as log_return,
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
        end as obv_step
    from ti_steps

),

ti_running as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        ti_block,
        is_output,
        close_f,
        gain,
        loss,
        true_range,
        source_loaded_at,
        state_bar_number,
        {%- if carried %}
        {%- for q in recursions %}
        state_{{ q }}_prefix,
        state_{{ q }}_anchor,
        {%- endfor %}
        {%- endif %}
        anchor_close,
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
        {%- endif %} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from ti_terms
    window running as ({{ in_time }} rows unbounded preceding)

),

ti_impulses as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        ti_block,
        state_bar_number as state_step,
        is_output,
        close_f,
        gain,
        loss,
        true_range,
        source_loaded_at,
        {%- for name in sums %}
        {{ name }},
        {%- endfor %}
        {%- for p in [12, 20, 26, 50, 200] %}
        anchor_close + {{ ti_mean('running_close', p) }} as mean_close_{{ p }},
        {%- endfor %}
        {{ ti_mean('running_close_sq', 20) }}
            - {{ ti_mean('running_close', 20) }} * {{ ti_mean('running_close', 20) }}
            as variance_close_20,
        ({{ ti_mean('running_return_sq', 20) }}
         - {{ ti_mean('running_return', 20) }} * {{ ti_mean('running_return', 20) }})
            * 20 / 19 as variance_return_20,
        {{ ti_mean('running_gain', 14) }} as mean_gain_14,
        {{ ti_mean('running_loss', 14) }} as mean_loss_14,
        {{ ti_mean('running_true_range', 14) }} as mean_true_range_14,
        {%- for q in recursions %}
        {{ ti_carry(q, carried) }}{{ "," if not loop.last }}
        {%- endfor %}
    from ti_running
    window w_time as ({{ in_time }})

),

ti_impulse_values as (

    select
        *,
        {%- for p in ema_periods %}
        {{ ti_impulse(p, 'mean_close_' ~ p, '2::float8 / ' ~ (p + 1), 'close_f') }}
            as ema_{{ p }}_impulse,
        {%- endfor %}
        -- talib.MACD seeds its fast EMA on the 12 closes ending at the slow seed's bar (26)
        {{ ti_impulse(26, 'mean_close_12', '2::float8 / 13', 'close_f') }}
            as macd_fast_ema_impulse,
        {{ ti_impulse(15, 'mean_gain_14', '1::float8 / 14', 'gain') }} as avg_gain_14_impulse,
        {{ ti_impulse(15, 'mean_loss_14', '1::float8 / 14', 'loss') }} as avg_loss_14_impulse,
        {{ ti_impulse(15, 'mean_true_range_14', '1::float8 / 14', 'true_range') }}
            as atr_14_impulse
    from ti_impulses
    where is_output

),

ti_recursive as (

    {{ linear_recurrences('ti_impulse_values', step='bar_number', carried=carried, quantities=[
        {'name': 'ema_12', 'decay': '(11::float8 / 13)'},
        {'name': 'ema_26', 'decay': '(25::float8 / 27)'},
        {'name': 'ema_50', 'decay': '(49::float8 / 51)'},
        {'name': 'ema_200', 'decay': '(199::float8 / 201)'},
        {'name': 'macd_fast_ema', 'decay': '(11::float8 / 13)'},
        {'name': 'avg_gain_14', 'decay': '(13::float8 / 14)'},
        {'name': 'avg_loss_14', 'decay': '(13::float8 / 14)'},
        {'name': 'atr_14', 'decay': '(13::float8 / 14)'},
    ]) }}

),

ti_macd_line as (

    select
        *,
        case when bar_number >= 26 then macd_fast_ema - ema_26 end as macd_line
    from ti_recursive

),

ti_signal_input as (

    select
        *,
        -- the signal's seed (bar 34) is the mean of the first 9 MACD values (bars 26..34);
        -- incremental runs never reach it (they continue from bar 200 on)
        {{ ti_impulse(34,
            '(sum(macd_line) over (' ~ in_time ~ ' rows unbounded preceding)) / 9',
            '2::float8 / 10', 'macd_line') }} as macd_signal_impulse
    from ti_macd_line

),

ti_signal as (

    {{ linear_recurrences('ti_signal_input', step='bar_number', carried=carried, quantities=[
        {'name': 'macd_signal', 'decay': '(8::float8 / 10)'},
    ]) }}

),

ti_final as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        close_f as close,
        case when bar_number >= 20 then mean_close_20 end as sma_20,
        case when bar_number >= 50 then mean_close_50 end as sma_50,
        case when bar_number >= 200 then mean_close_200 end as sma_200,
        {%- for p in ema_periods %}
        case when bar_number >= {{ p }} then ema_{{ p }} end as ema_{{ p }},
        {%- endfor %}
        case when bar_number >= 34 then macd_line end as macd,
        case when bar_number >= 34 then macd_signal end as macd_signal,
        case when bar_number >= 34 then macd_line - macd_signal end as macd_hist,
        case
            when bar_number < 15 then null
            when abs(avg_gain_14 + avg_loss_14) < 1e-14 then 0::float8
            else 100 * (avg_gain_14 / (avg_gain_14 + avg_loss_14))
        end as rsi_14,
        case when bar_number >= 20 then
            mean_close_20 + 2 * case when variance_close_20 < 1e-14 then 0::float8
                                     else sqrt(variance_close_20) end
        end as bb_upper,
        case when bar_number >= 20 then mean_close_20 end as bb_middle,
        case when bar_number >= 20 then
            mean_close_20 - 2 * case when variance_close_20 < 1e-14 then 0::float8
                                     else sqrt(variance_close_20) end
        end as bb_lower,
        case when bar_number >= 15 then atr_14 end as atr_14,
        obv,
        case when bar_number >= 21 then
            sqrt(greatest(variance_return_20, 0)) * sqrt(252::float8)
        end as volatility_20,
        -- state carried to the next incremental run
        {%- for name in sums if name != 'obv' %}
        {{ name }},
        {%- endfor %}
        {%- for q in recursions %}
        {{ q }}_prefix as state_{{ q }}_prefix,
        {{ q }}_anchor as state_{{ q }}_anchor,
        {%- endfor %}
        source_loaded_at
    from ti_signal

)

select * from ti_final
{% endmacro %}
