{#-
  Daily bars adjusted for corporate actions, from the unadjusted bars and the landed events.

  - split_factor: exact product of split ratios with an ex-date after the bar; split-adjusted
    prices are raw / split_factor and volume raw * split_factor (the basis of the newest bar),
    all exact numerics (macros/split_adjustment.sql, shared with the hourly bars).
  - dividend_factor: product over later dividends of (1 - cash / previous raw close), the usual
    total-return adjustment; total_return_close = split-adjusted close * dividend_factor.
  - Yahoo serves prices already split-adjusted as of the fetch, so a Yahoo bar takes only the
    splits with an ex-date after both the bar and the day it was fetched (its loaded_at).
  - source_loaded_at: the newest of the bar's and its symbol's events' landing times, so that an
    incremental run notices a new split and restates the symbol.
  No window function here, so filters on symbol and date reach the raw tables' indexes (and
  each CTE over the bars is referenced once, so PostgreSQL inlines it rather than materialising).
-#}
with

bars as (

    select
        *,
        {{ split_basis_date('unioned') }} as split_basis_date
    from {{ ref('int_daily_bars_unioned') }} as unioned

),

actions as (

    select * from {{ ref('int_corporate_actions_unioned') }}

),

split_eras as (

    select * from {{ ref('int_split_eras') }}

),

dividend_actions as (

    select * from actions
    where action_type = 'dividend'

),

dividends as (

    select
        dividend_actions.symbol,
        dividend_actions.ex_date,
        (1 - dividend_actions.cash_amount / previous_bar.close)::float8 as factor
    from dividend_actions
    cross join lateral (
        select unioned.close
        from {{ ref('int_daily_bars_unioned') }} as unioned
        where
            unioned.symbol = dividend_actions.symbol
            and unioned.trade_date < dividend_actions.ex_date
        order by unioned.trade_date desc
        limit 1
    ) as previous_bar

),

dividend_eras as (

    select
        symbol,
        lag(ex_date) over by_date as era_start,
        ex_date as era_end,
        udf.affine_scan(factor, 0::float8, 1::float8) over newest_first as dividend_factor
    from dividends
    window
        by_date as (partition by symbol order by ex_date),
        newest_first as (partition by symbol order by ex_date desc rows unbounded preceding)

),

symbol_events as (

    select
        symbol,
        max(loaded_at) as events_loaded_at
    from actions
    group by symbol

),

adjusted as (

    select
        bars.symbol,
        bars.trade_date,
        {{ split_adjusted_bar_columns('bars') }},
        (bars.close / {{ split_factor() }})::float8
        * coalesce(dividend_eras.dividend_factor, 1) as total_return_close,
        {{ split_factor() }} as split_factor,
        coalesce(dividend_eras.dividend_factor, 1) as dividend_factor,
        bars.open as raw_open,
        bars.high as raw_high,
        bars.low as raw_low,
        bars.close as raw_close,
        bars.volume as raw_volume,
        bars.data_source,
        bars.loaded_at,
        greatest(bars.loaded_at, symbol_events.events_loaded_at) as source_loaded_at

    from bars
    {{ join_split_era('bars') }}
    left join dividend_eras
        on bars.symbol = dividend_eras.symbol
        and bars.trade_date < dividend_eras.era_end
        and (dividend_eras.era_start is null or bars.trade_date >= dividend_eras.era_start)
    left join symbol_events
        on bars.symbol = symbol_events.symbol

),

final as (

    select * from adjusted

)

select * from final
