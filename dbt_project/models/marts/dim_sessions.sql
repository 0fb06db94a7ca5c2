{#-
  The exchange calendar (var `calendar_exchange`, XNYS) as the warehouse holds it: one row per
  session, with its neighbours, how many symbols have a bar on it, and where it stands relative
  to the latest complete session (the newest one most symbols have reached; see
  dim_latest_sessions, source `all`): sessions_ago = 0 on that session, 1 on the one before,
  negative after it. "Today" in a query is `where is_latest_complete`, not max(trade_date).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_all',
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['session_date'], 'unique': True},
                 {'columns': ['sessions_ago']}],
    )
}}

with

sessions as (

    select * from {{ ref('int_trading_sessions_numbered') }}

),

latest as (

    select sessions.session_number
    from {{ ref('int_latest_complete_sessions') }} as latest_complete
    inner join sessions on latest_complete.latest_complete_session = sessions.session_date
    where latest_complete.source = 'all'

),

bars_per_session as (

    select
        trade_date,
        count(*) as symbols_with_bars
    from {{ ref('fct_daily_bars') }}
    group by trade_date

),

final as (

    select
        sessions.session_date,
        sessions.session_number,
        sessions.open_at,
        sessions.close_at,
        sessions.is_early_close,
        lag(sessions.session_date) over by_date as previous_session_date,
        lead(sessions.session_date) over by_date as next_session_date,
        coalesce(bars_per_session.symbols_with_bars, 0) as symbols_with_bars,
        (select latest.session_number from latest) - sessions.session_number as sessions_ago,
        coalesce(
            sessions.session_number = (select latest.session_number from latest), false
        ) as is_latest_complete

    from sessions
    left join bars_per_session on sessions.session_date = bars_per_session.trade_date
    window by_date as (order by sessions.session_date)

)

select * from final
