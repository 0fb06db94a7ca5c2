{#-
  Technical indicators per symbol and trading day, defined as TA-Lib's (Classic mode) on each
  symbol's ordered close series from its first landed bar; null where TA-Lib gives NaN.

  - Moving sums come from running sums (O(rows)), taken on closes centred on the symbol's first
    close to keep the squares small.
  - EMA / Wilder recursions come from the udf.talib_ema / udf.wilder_average aggregates
    (macros/create_indicator_functions.sql).
  - MACD follows talib.MACD: the fast EMA is seeded on the 12 closes ending at bar 26, so it
    starts on the same bar as the slow EMA; the signal is the EMA(9) of MACD; all three outputs
    start at bar 34.
-#}
with

sequenced_bars as (

    select * from {{ ref('int_daily_bars_sequenced') }}

),

centred as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        log_return,
        first_value(close) over bars as anchor_close,
        close - first_value(close) over bars as centred_close,
        -- greatest() ignores nulls: keep the first bar's change null, not 0
        case when previous_close is not null then greatest(close - previous_close, 0) end
            as gain,
        case when previous_close is not null then greatest(previous_close - close, 0) end
            as loss

    from sequenced_bars
    window bars as (partition by symbol order by trade_date)

),

running as (

    select
        *,
        sum(centred_close) over bars as sum_close,
        sum(centred_close * centred_close) over bars as sum_close_sq,
        sum(log_return) over bars as sum_return,
        sum(log_return * log_return) over bars as sum_return_sq,
        udf.talib_ema(close, 12) over bars as ema_12_raw,
        udf.talib_ema(close, 26) over bars as ema_26_raw,
        udf.talib_ema(case when bar_number > 26 - 12 then close end, 12) over bars
            as macd_fast_ema,
        udf.wilder_average(gain, 14) over bars as average_gain,
        udf.wilder_average(loss, 14) over bars as average_loss

    from centred
    window bars as (partition by symbol order by trade_date rows unbounded preceding)

),

windowed as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        ema_12_raw,
        ema_26_raw,
        average_gain,
        average_loss,
        case when bar_number >= 26 then macd_fast_ema - ema_26_raw end as macd_line,
        anchor_close + {{ rolling_mean_from_cumsum('sum_close', 20) }} as mean_20,
        anchor_close + {{ rolling_mean_from_cumsum('sum_close', 50) }} as mean_50,
        anchor_close + {{ rolling_mean_from_cumsum('sum_close', 200) }} as mean_200,
        {{ population_stddev_from_moments(
            rolling_mean_from_cumsum('sum_close', 20),
            rolling_mean_from_cumsum('sum_close_sq', 20)) }} as stddev_20,
        -- returns start at bar 2; the sums are null on bar 1, so the window sums use coalesce
        {{ rolling_mean_from_cumsum('coalesce(sum_return, 0)', 20) }} as mean_return_20,
        {{ rolling_mean_from_cumsum('coalesce(sum_return_sq, 0)', 20) }} as mean_return_sq_20

    from running
    window bars as (partition by symbol order by trade_date)

),

with_signal as (

    select
        *,
        udf.talib_ema(macd_line, 9) over (
            partition by symbol order by trade_date rows unbounded preceding
        ) as macd_signal_raw

    from windowed

),

final as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        {{ null_before_bar('mean_20', 20) }} as sma_20,
        {{ null_before_bar('mean_50', 50) }} as sma_50,
        {{ null_before_bar('mean_200', 200) }} as sma_200,
        ema_12_raw as ema_12,
        ema_26_raw as ema_26,
        {{ null_before_bar('macd_line', 34) }} as macd,
        {{ null_before_bar('macd_signal_raw', 34) }} as macd_signal,
        {{ null_before_bar('macd_line - macd_signal_raw', 34) }} as macd_hist,
        case
            when bar_number < 15 then null
            when abs(average_gain + average_loss) < 1e-14 then 0::float8
            else 100 * (average_gain / (average_gain + average_loss))
        end as rsi_14,
        {{ null_before_bar('mean_20 + 2 * stddev_20', 20) }} as bb_upper,
        {{ null_before_bar('mean_20', 20) }} as bb_middle,
        {{ null_before_bar('mean_20 - 2 * stddev_20', 20) }} as bb_lower,
        {{ null_before_bar(
            'sqrt(greatest(mean_return_sq_20 - mean_return_20 * mean_return_20, 0) * 20 / 19)'
            ' * sqrt(252::float8)', 21) }} as volatility_20

    from with_signal

)

select * from final
