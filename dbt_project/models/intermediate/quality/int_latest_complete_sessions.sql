{#-
  Per source, the latest complete session: the newest session of the calendar (var
  `calendar_exchange`) that at least var `complete_session_share` of the source's symbols have
  reached - their last bar is on or after it -, so one stray row dated far ahead never moves it
  and a symbol that stopped long ago never holds it back. Source `all` is the unified series (a
  symbol's unified last bar is its latest bar from any source). Symbols marked inactive in
  raw.symbols are not counted. A reached date that is not a session (a weekend bar) counts as
  the session before it.
-#}
with

sessions as (

    select * from {{ ref('int_trading_sessions_numbered') }}

),

inactive_symbols as (

    select symbol from {{ ref('stg_reference__symbols') }}
    where not is_active

),

source_last_bars as (

    select
        data_source as source,
        symbol,
        max(trade_date) as last_bar
    from {{ ref('stg_raw__daily_bars') }}
    group by data_source, symbol

),

last_bars as (

    select * from source_last_bars
    where symbol not in (select inactive_symbols.symbol from inactive_symbols)
    union all
    select
        'all' as source,
        symbol,
        max(last_bar) as last_bar
    from source_last_bars
    where symbol not in (select inactive_symbols.symbol from inactive_symbols)
    group by symbol

),

reached as (

    -- per source and last-bar date: how many symbols reached it (their last bar on or after it)
    select
        source,
        last_bar,
        count(*) over newest_first as symbols_reached,
        count(*) over per_source as symbols
    from last_bars
    window
        newest_first as (partition by source order by last_bar desc),
        per_source as (partition by source)

),

complete as (

    select
        source,
        max(symbols) as symbols,
        max(last_bar) as latest_bar_date,
        max(last_bar) filter (
            where symbols_reached >= {{ var('complete_session_share') }} * symbols
        ) as reached_by_share
    from reached
    group by source

),

latest as (

    select
        complete.*,
        coalesce(snapped.session_date, complete.reached_by_share) as latest_complete_session
    from complete
    left join lateral (
        select sessions.session_date
        from sessions
        where sessions.session_date <= complete.reached_by_share
        order by sessions.session_date desc
        limit 1
    ) as snapped on true

),

final as (

    select
        latest.source,
        latest.latest_complete_session,
        latest.latest_bar_date,
        latest.symbols,
        count(*) filter (
            where last_bars.last_bar >= latest.latest_complete_session
        ) as symbols_reached,
        count(*) filter (
            where last_bars.last_bar > latest.latest_complete_session
        ) as symbols_beyond
    from latest
    inner join last_bars on latest.source = last_bars.source
    group by latest.source, latest.latest_complete_session, latest.latest_bar_date, latest.symbols

)

select * from final
