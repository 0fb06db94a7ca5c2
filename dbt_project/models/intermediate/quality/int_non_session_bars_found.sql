{#-
  non_session_date (error): a source's bar dated on a day that is not a session of the calendar
  (weekend or holiday), within the range the landed calendar covers.
-#}
with

sessions as (

    select * from {{ ref('int_trading_sessions_numbered') }}

),

calendar_range as (

    select
        min(session_date) as first_session,
        max(session_date) as last_session
    from sessions

),

source_bars as (

    select * from {{ ref('int_daily_bars_by_source') }}

),

off_calendar as (

    select source_bars.*
    from source_bars
    cross join calendar_range
    where source_bars.trade_date between calendar_range.first_session
        and calendar_range.last_session
        and not exists (
            select 1 from sessions
            where sessions.session_date = source_bars.trade_date
        )

),

final as (

    select
        'non_session_date' as check_name,
        'error' as severity,
        symbol,
        data_source as source,
        trade_date as first_date,
        trade_date as last_date,
        format(
            '%s bar on %s %s, not an {{ var("calendar_exchange") }} session (%s)',
            data_source,
            trim(to_char(trade_date, 'Day')),
            trade_date,
            case when extract(isodow from trade_date) in (6, 7) then 'weekend' else 'holiday' end
        ) as detail
    from off_calendar

)

select * from final
