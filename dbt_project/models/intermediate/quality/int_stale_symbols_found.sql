{#-
  stale_symbol (warn): an active symbol (not marked inactive in raw.symbols) whose last bar is
  more than var `stale_after_sessions` sessions older than the latest complete session (the
  newest one most symbols have reached: int_latest_complete_sessions, source `all`; a stray row
  dated far ahead does not make every other symbol stale).
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

latest_session as (

    select
        sessions.session_date,
        sessions.session_number
    from {{ ref('int_latest_complete_sessions') }} as latest_complete
    inner join sessions on latest_complete.latest_complete_session = sessions.session_date
    where latest_complete.source = 'all'

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
        latest_session.session_date as latest_date,
        latest_session.session_number - last_session.session_number as sessions_behind,
        next_session.session_date as first_date
    from last_bars
    cross join latest_session
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
        latest_date as last_date,
        format(
            'last bar %s, %s sessions before the latest complete session %s (threshold %s)',
            last_bar, sessions_behind, latest_date, {{ var('stale_after_sessions') }}
        ) as detail
    from behind
    where sessions_behind > {{ var('stale_after_sessions') }}

)

select * from final
