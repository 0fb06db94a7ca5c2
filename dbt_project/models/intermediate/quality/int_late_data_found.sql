{#-
  late_data (warn): the newest session that closed more than var `expected_delay_hours` ago
  (as of var `quality_as_of`, default now) has no bar. When no symbol has it, one feed-level
  finding (symbol null); otherwise one per active symbol that lacks it.
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

expected_session as (

    select
        session_date,
        session_number,
        close_at
    from sessions
    where close_at + interval '{{ var("expected_delay_hours") }} hours'
        < {% if var('quality_as_of') %}'{{ var("quality_as_of") }}'::timestamptz{% else %}
            now()
    {% endif %}
    order by session_date desc
    limit 1

),

last_bars as (

    select
        bars.symbol,
        max(bars.trade_date) as last_bar
    from bars
    where bars.symbol not in (select inactive_symbols.symbol from inactive_symbols)
    group by bars.symbol

),

late_symbols as (

    select last_bars.*
    from last_bars
    cross join expected_session
    where last_bars.last_bar < expected_session.session_date

),

feed_is_late as (

    select count(*) = (select count(*) from last_bars) as whole_feed from late_symbols

),

late as (

    select
        null::text as symbol,
        max(late_symbols.last_bar) as last_bar
    from late_symbols
    where (select feed_is_late.whole_feed from feed_is_late)
    having count(*) > 0
    union all
    select
        symbol,
        last_bar
    from late_symbols
    where not (select feed_is_late.whole_feed from feed_is_late)

),

final as (

    select
        'late_data' as check_name,
        'warn' as severity,
        late.symbol,
        null::text as source,
        coalesce(next_session.session_date, expected_session.session_date) as first_date,
        expected_session.session_date as last_date,
        format(
            '%s: no bar for the session %s (closed %s UTC, expected within %s h);'
            ' newest bar %s, %s session(s) behind',
            coalesce(late.symbol, 'no symbol'),
            expected_session.session_date,
            to_char(expected_session.close_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
            {{ var('expected_delay_hours') }},
            late.last_bar,
            expected_session.session_number - last_session.session_number
        ) as detail
    from late
    cross join expected_session
    cross join
        lateral (
            select max(sessions.session_number) as session_number
            from sessions
            where sessions.session_date <= late.last_bar
        ) as last_session
    left join sessions as next_session
        on next_session.session_number = last_session.session_number + 1

)

select * from final
