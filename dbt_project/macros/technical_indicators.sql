{#-
  Technical indicators, as TA-Lib (Classic mode) computes them, over each symbol's bar series.

  input: one row per symbol and bar, with columns
    symbol, <order_by> (time), bar_number (1 = the symbol's first bar), is_output (false for
    look-back rows that only feed moving windows), high, low, close, volume (numeric),
    source_loaded_at, and the carried state of the stored row just before the first output row:
    state_bar_number (0 when computing from bar 1), state_obv, and for every recursive quantity q
    in indicator_recursions(): state_<q>_prefix, state_<q>_anchor (null when computing from bar 1).
  Look-back rows must cover the longest moving window (199 bars) before the first output row.

  Moving windows use exact numeric running sums; recursive averages use linear_recurrences with
  TA-Lib's seeds. Returns one row per output bar: indicators plus the state to carry.
-#}

{% macro indicator_recursions() %}
    {{ return(['ema_12', 'ema_26', 'ema_50', 'ema_200', 'macd_fast_ema', 'avg_gain_14',
               'avg_loss_14', 'atr_14', 'macd_signal']) }}
{% endmacro %}

{% macro ti_window_sum(running_sum, n) -%}
    (({{ running_sum }}) - coalesce(lag({{ running_sum }}, {{ n }}) over w_time, 0))
{%- endmacro %}

{% macro ti_window_mean(running_sum, n) -%}
    ({{ ti_window_sum(running_sum, n) }})::float8 / {{ n }}
{%- endmacro %}

{% macro ti_impulse(seed_bar, seed, k, x) -%}
    case
        when bar_number = {{ seed_bar }} then {{ seed }}
        when bar_number > {{ seed_bar }} then ({{ k }}) * ({{ x }})::float8
        else 0::float8
    end
{%- endmacro %}

{% macro ti_state(q) -%}
    coalesce(state_{{ q }}_prefix, 0) as {{ q }}_prefix0,
    coalesce(state_{{ q }}_anchor, 0) as {{ q }}_anchor0
{%- endmacro %}

{% macro technical_indicators(input, order_by='trade_date') %}
{%- set ema_periods = [12, 26, 50, 200] %}
with

ti_changes as (

    select
        i.*,
        lag(close) over w_time as previous_close
    from {{ input }} as i
    window w_time as (partition by symbol order by {{ order_by }})

),

ti_steps as (

    select
        *,
        case when previous_close is not null then greatest(close - previous_close, 0) end as gain,
        case when previous_close is not null then greatest(previous_close - close, 0) end as loss,
        case when previous_close is not null
            then greatest(high, previous_close) - least(low, previous_close) end as true_range,
        case
            when bar_number = 1 then volume
            when close > previous_close then volume
            when close < previous_close then -volume
            else 0
        end as obv_step,
        ln((close / previous_close)::float8)::numeric as log_return
    from ti_changes

),

ti_running as (

    select
        *,
        sum(close) over w_running as sum_close,
        sum(close * close) over w_running as sum_close_sq,
        sum(coalesce(log_return, 0)) over w_running as sum_return,
        sum(coalesce(log_return * log_return, 0)) over w_running as sum_return_sq,
        sum(coalesce(gain, 0)) over w_running as sum_gain,
        sum(coalesce(loss, 0)) over w_running as sum_loss,
        sum(coalesce(true_range, 0)) over w_running as sum_true_range
    from ti_steps
    window w_running as (partition by symbol order by {{ order_by }} rows unbounded preceding)

),

ti_moving as (

    select
        *,
        {%- for p in [12, 20, 26, 50, 200] %}
        {{ ti_window_mean('sum_close', p) }} as mean_close_{{ p }},
        {%- endfor %}
        ((20 * {{ ti_window_sum('sum_close_sq', 20) }}
          - {{ ti_window_sum('sum_close', 20) }} * {{ ti_window_sum('sum_close', 20) }}
         )::float8 / 400) as variance_close_20,
        ((20 * {{ ti_window_sum('sum_return_sq', 20) }}
          - {{ ti_window_sum('sum_return', 20) }} * {{ ti_window_sum('sum_return', 20) }}
         )::float8 / 380) as sample_variance_return_20,
        {{ ti_window_mean('sum_gain', 14) }} as mean_gain_14,
        {{ ti_window_mean('sum_loss', 14) }} as mean_loss_14,
        {{ ti_window_mean('sum_true_range', 14) }} as mean_true_range_14
    from ti_running
    window w_time as (partition by symbol order by {{ order_by }})

),

ti_impulses as (

    select
        *,
        bar_number as step,
        state_bar_number as state_step,
        {%- for p in ema_periods %}
        {{ ti_impulse(p, 'mean_close_' ~ p, '2::float8 / ' ~ (p + 1), 'close') }}
            as ema_{{ p }}_impulse,
        {{ ti_state('ema_' ~ p) }},
        {%- endfor %}
        -- talib.MACD seeds its fast EMA on the 12 closes ending at the slow seed's bar (26)
        {{ ti_impulse(26, 'mean_close_12', '2::float8 / 13', 'close') }}
            as macd_fast_ema_impulse,
        {{ ti_state('macd_fast_ema') }},
        {{ ti_impulse(15, 'mean_gain_14', '1::float8 / 14', 'gain') }} as avg_gain_14_impulse,
        {{ ti_state('avg_gain_14') }},
        {{ ti_impulse(15, 'mean_loss_14', '1::float8 / 14', 'loss') }} as avg_loss_14_impulse,
        {{ ti_state('avg_loss_14') }},
        {{ ti_impulse(15, 'mean_true_range_14', '1::float8 / 14', 'true_range') }}
            as atr_14_impulse,
        {{ ti_state('atr_14') }}
    from ti_moving
    where is_output

),

ti_recursive as (

    {{ linear_recurrences('ti_impulses', [
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
        case when bar_number >= 26 then macd_fast_ema - ema_26 end as macd_line,
        coalesce(state_obv, 0) + sum(obv_step) over w_steps as obv
    from ti_recursive
    window w_steps as (partition by symbol order by step rows unbounded preceding)

),

ti_signal_input as (

    select
        *,
        {{ ti_impulse(34, 'avg(macd_line) over (partition by symbol order by step rows 8 preceding)',
                      '2::float8 / 10', 'macd_line') }} as macd_signal_impulse,
        {{ ti_state('macd_signal') }}
    from ti_macd_line

),

ti_signal as (

    {{ linear_recurrences('ti_signal_input', [
        {'name': 'macd_signal', 'decay': '(8::float8 / 10)'},
    ]) }}

),

ti_final as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        close::float8 as close,
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
        obv::float8 as obv,
        case when bar_number >= 21 then
            sqrt(greatest(sample_variance_return_20, 0)) * sqrt(252::float8)
        end as volatility_20,
        -- state carried to the next incremental run
        obv as state_obv,
        {%- for q in indicator_recursions() %}
        {{ q }}_prefix as state_{{ q }}_prefix,
        {{ q }}_anchor as state_{{ q }}_anchor,
        {%- endfor %}
        source_loaded_at
    from ti_signal

)

select * from ti_final
{% endmacro %}
