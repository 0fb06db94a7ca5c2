{#-
  stale_symbol (warn): an active symbol (not marked inactive in raw.symbols) whose last bar is
  more than var `stale_after_sessions` sessions older than the newest session landed for any
  symbol.
-#}
with

sessions as (

    select * from {{ ref('int_trading_sessions_numbered') }}

),

bars as (

    select * from {{ ref('int_daily_bars_unioned') }}

),

inactive_symbols as (

    select symbol from {{ ref('stg_reference__symbols') }}
    where not is_active

),

newest_session as (

    select
        sessions.session_date,
        sessions.session_number
    from sessions
    where sessions.session_date = (
            select max(bars.trade_date) from bars
            inner join sessions as landed on bars.trade_date = landed.session_date
        )

),

last_bars as (

    select
        bars.symbol,
        max(bars.trade_date) as last_bar
    from bars
    where bars.symbol not in (select inactive_symbols.symbol from inactive_symbols)
    group by bars.symbol

),

behind as (

    select
        last_bars.symbol,
        last_bars.last_bar,
        newest_session.session_date as newest_date,
        newest_session.session_number - last_session.session_number as sessions_behind,
        next_session.session_date as first_date
    from last_bars
    cross join newest_session
    cross join
        lateral (
            select max(sessions.session_number) as session_number
            from sessions
            where sessions.session_date <= last_bars.last_bar
        ) as last_session
    left join sessions as next_session
        on next_session.session_number = last_session.session_number + 1

),

final as (

    select
        'stale_symbol' as check_name,
        'warn' as severity,
        symbol,
        null::text as source,
        first_date,
        newest_date as last_date,
        format(
            'last bar %s, %s sessions before the newest landed session %s (threshold %s)',
            last_bar, sessions_behind, newest_date, {{ var('stale_after_sessions') }}
        ) as detail
    from behind
    where sessions_behind > {{ var('stale_after_sessions') }}

)

select * from final
