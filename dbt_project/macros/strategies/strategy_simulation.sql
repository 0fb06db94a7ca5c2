{#-
  The SQL that simulates the strategies' books (int_strategy_positions_simulated).

  Strategies that read the same bars in a run (same mode, stored session and universe list)
  form a group and share one pass over the bars: CTEs <group>__* with a column per strategy
  (<strategy>__*) until the books are unpivoted into rows (strategy, side, symbol, session).

  Per symbol and bar, in the symbol's own bar order (window `by_bar`):
    1. the rules on the signal day: <strategy>__entry_<leg> / __exit_<leg>, only on the
       strategy's rebalance sessions, from the first session on; an entry also needs the
       universe filter. previous_<column> is the symbol's previous bar, rank_pct the percent
       rank of rank_by across the session's universe (0 lowest, 1 highest);
    2. each leg's decided side: the latest event wins (an exit on an entry's day cancels it),
       found as the running maximum of bar_number * 2 + (0 exit | 1 entry); with max_positions,
       entries first compete for slots (udf.strategy_slots, create_strategy_functions.sql);
    3. execution at the symbol's next bar: the side held after a bar's execution point (its
       open for next_open, its close for next_close) is the side decided at the previous bar;
       a stale symbol (no bar for var('stale_after_sessions') of the sessions) is closed at its
       last bar's close;
    4. one row per session with a decision or a position, gap sessions included (no bar: the
       position is carried at its last price, return 0); weights from the sizing; a cash row.
  Sessions are the dates the group's universe has bars on. An append run reads only the bars
  landed after the watermark plus each symbol's last bar up to the stored session (the
  `anchor`, carrying the stored book), so it makes the comparisons and arithmetic of a full
  run and stores the same rows.
-#}

{%- macro strategy_group_sql(group, strategies, plan) -%}
{%- set G = group ~ '__' -%}
{%- set p = plan.strategies[strategies[0].name] -%}
{%- set full = p.mode == 'full' -%}
{%- set start = strategies[0].start -%}
{%- set end = strategies[0].end -%}
{%- set bars = ref('fct_daily_bars') -%}
{%- set indicators = ref('fct_daily_indicators') -%}
{%- set prices = ['open', 'high', 'low', 'close', 'dividend_factor', 'total_return_close'] -%}
{%- set indicator_names = indicator_columns() -%}
{%- set from_bars = [] -%}
{%- set from_indicators = [] -%}
{%- set lags = [] -%}
{%- for s in strategies -%}
    {%- for c in s.columns if c not in ['symbol', 'trade_date', 'bar_number'] + prices and c not in from_bars and c not in from_indicators -%}
        {%- if c in indicator_names -%}{%- do from_indicators.append(c) -%}{%- else -%}{%- do from_bars.append(c) -%}{%- endif -%}
    {%- endfor -%}
    {%- for c in s.lags if c not in lags -%}{%- do lags.append(c) -%}{%- endfor -%}
{%- endfor -%}
{%- set capped = strategies | selectattr('sizing.max_positions') | list -%}
{%- set uncapped = strategies | rejectattr('sizing.max_positions') | list -%}
{%- set ranked = strategies | selectattr('rank_by') | list -%}
{%- set early = namespace(ok=ranked | length > 0) -%}
{%- for s in ranked -%}
    {%- if 'previous_' in s.rank_by or (s.universe.kind == 'where' and 'previous_' in s.universe.where) -%}
        {%- set early.ok = false -%}
    {%- endif -%}
{%- endfor -%}
{%- set rank_early = early.ok -%}
{%- set stale_after = var('stale_after_sessions', 5) -%}
{%- set stored_columns = [] -%}
{%- for s in strategies -%}{%- for leg in s.legs -%}
    {%- do stored_columns.append(s.name ~ '__stored_target_' ~ leg.side) -%}
    {%- do stored_columns.append(s.name ~ '__stored_side_' ~ leg.side) -%}
{%- endfor -%}{%- endfor -%}
{%- set carried_columns = ['symbol', 'trade_date', 'bar_number', 'is_anchor', 'is_processed',
    'session_number', 'next_bar_session_number', 'stale_last', 'open', 'high', 'low', 'close',
    'dividend_factor', 'overnight_return', 'intraday_return', 'close_return'] -%}
{%- for s in strategies -%}{%- for leg in s.legs -%}
    {%- do carried_columns.append(s.name ~ '__stored_side_' ~ leg.side) -%}
    {%- if s not in capped -%}{%- do carried_columns.append(s.name ~ '__decided_' ~ leg.side) -%}{%- endif -%}
{%- endfor -%}{%- endfor -%}

{{ G }}sessions as (

    -- the sessions: the dates the universe has bars on
    select
        dates.trade_date,
        dates.previous_session,
        row_number() over by_date as session_number,
        {%- if full %}
        count(*) over () - row_number() over by_date as sessions_after,
        {%- else %}
        null::bigint as sessions_after,
        {%- endif %}
        dates.previous_session is null
        or date_trunc('week', dates.trade_date) <> date_trunc('week', dates.previous_session)
            as week_start,
        dates.previous_session is null
        or date_trunc('month', dates.trade_date) <> date_trunc('month', dates.previous_session)
            as month_start
    from (
        select
            trade_date,
            {%- if full %}
            lag(trade_date) over (order by trade_date) as previous_session
            {%- else %}
            lag(trade_date, 1, '{{ p.last_session }}'::date) over (order by trade_date) as previous_session
            {%- endif %}
        from (
            select distinct bars.trade_date
            from {{ bars }} as bars
            where true {{- strategy_universe_filter('bars', p.symbols, end) }}
            {%- if not full %}
                and bars.source_loaded_at > '{{ p.watermark }}'::timestamptz
                and bars.trade_date > '{{ p.last_session }}'::date
            {%- endif %}
        ) as distinct_dates
    ) as dates
    {%- if start and full %}
    where dates.trade_date >= '{{ start }}'::date
    {%- endif %}
    window by_date as (order by dates.trade_date)

),

{%- if not full %}
{%- for s in strategies %}

{{ s.name }}__stored as (

    -- the book of the last stored session, one row per symbol
    select
        symbol,
        {%- for leg in s.legs %}
        coalesce(max(target) filter (where side = '{{ leg.side }}'), 0) as target_{{ leg.side }},
        coalesce(max(abs(sign(weight))) filter (where side = '{{ leg.side }}'), 0)::integer as side_{{ leg.side }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }}
    where strategy = '{{ s.name }}'
        and trade_date = '{{ p.last_session }}'::date
        and symbol <> '$CASH'
    group by symbol

),
{%- endfor %}

{{ G }}new_bars as (

    select bars.*
    from {{ bars }} as bars
    where bars.source_loaded_at > '{{ p.watermark }}'::timestamptz
        and bars.trade_date > '{{ p.last_session }}'::date
        {{- strategy_universe_filter('bars', p.symbols, end) }}

),
{%- endif %}

{{ G }}rows as (

    {%- if full %}
    select
        {{- strategy_input_columns('bars', prices, from_bars, from_indicators) }}
        false as is_anchor,
        sessions.trade_date is not null as is_processed,
        sessions.session_number,
        sessions.sessions_after,
        sessions.week_start,
        sessions.month_start
        {%- for c in stored_columns %},
        0 as {{ c }}
        {%- endfor %}
    from {{ bars }} as bars
    left join {{ G }}sessions as sessions on bars.trade_date = sessions.trade_date
    {{- strategy_indicator_join('bars', indicators, from_indicators) }}
    where true {{- strategy_universe_filter('bars', p.symbols, end) }}
    {%- else %}
    select
        {{- strategy_input_columns('new_bars', prices, from_bars, from_indicators) }}
        false as is_anchor,
        true as is_processed,
        sessions.session_number,
        sessions.sessions_after,
        sessions.week_start,
        sessions.month_start
        {%- for c in stored_columns %},
        0 as {{ c }}
        {%- endfor %}
    from {{ G }}new_bars as new_bars
    inner join {{ G }}sessions as sessions on new_bars.trade_date = sessions.trade_date
    {{- strategy_indicator_join('new_bars', indicators, from_indicators) }}

    union all

    -- each symbol's last bar up to the last stored session (session 0), carrying the books
    select
        {{- strategy_input_columns('anchor', prices, from_bars, from_indicators) }}
        true as is_anchor,
        false as is_processed,
        0::bigint as session_number,
        null::bigint as sessions_after,
        false as week_start,
        false as month_start
        {%- for s in strategies %}{%- for leg in s.legs %},
        coalesce({{ s.name }}__stored.target_{{ leg.side }}, 0) as {{ s.name }}__stored_target_{{ leg.side }},
        coalesce({{ s.name }}__stored.side_{{ leg.side }}, 0) as {{ s.name }}__stored_side_{{ leg.side }}
        {%- endfor %}{%- endfor %}
    from (
        select symbol from {{ G }}new_bars
        {%- for s in strategies %}
        union
        select symbol from {{ s.name }}__stored
        {%- endfor %}
    ) as anchored
    cross join lateral (
        select bars.*
        from {{ bars }} as bars
        where bars.symbol = anchored.symbol and bars.trade_date <= '{{ p.last_session }}'::date
        order by bars.trade_date desc
        limit 1
    ) as anchor
    {%- for s in strategies %}
    left join {{ s.name }}__stored on anchored.symbol = {{ s.name }}__stored.symbol
    {%- endfor %}
    {{- strategy_indicator_join('anchor', indicators, from_indicators) }}
    {%- endif %}

),

{#- ranks across a session need their own sort by date: before the symbol-ordered window
    passes when rank_by and the universe filter read no previous bar (one sort fewer) -#}
{%- if rank_early %}
{{ strategy_rank_ctes(G, ranked, G ~ 'rows') }}
{%- endif %}

{{ G }}lagged as (

    select
        bar_rows.*,
        {%- for c in lags %}
        lag(bar_rows.{{ c }}) over by_bar as previous_{{ c }},
        {%- endfor %}
        lag(bar_rows.total_return_close) over by_bar as previous_total_return_close,
        lead(bar_rows.trade_date) over by_bar as next_bar_date,
        lead(bar_rows.session_number) over by_bar as next_bar_session_number
    from {{ G }}{{ 'ranked' if rank_early else 'rows' }} as bar_rows
    window by_bar as (partition by bar_rows.symbol order by bar_rows.trade_date)

),

{%- if ranked and not rank_early %}
{{ strategy_rank_ctes(G, ranked, G ~ 'lagged') }}
{%- endif %}

{{ G }}events as (

    -- the rules, evaluated over the columns of this one relation; only what follows is kept
    select
        symbol,
        trade_date,
        bar_number,
        is_anchor,
        is_processed,
        session_number,
        next_bar_session_number,
        open,
        high,
        low,
        close,
        dividend_factor,
        coalesce(open * dividend_factor / previous_total_return_close - 1, 0) as overnight_return,
        coalesce(close / open - 1, 0) as intraday_return,
        coalesce(total_return_close / previous_total_return_close - 1, 0) as close_return,
        -- a stale symbol (no bar for {{ stale_after }} sessions) closes at its last bar
        is_processed and next_bar_date is null and coalesce(sessions_after, 0) >= {{ stale_after }}
            as stale_last
        {%- for c in stored_columns %},
        {{ c }}
        {%- endfor %}
        {%- for s in strategies %}
        {%- set rebalance = {'daily': 'true', 'weekly': 'week_start', 'monthly': 'month_start'}[s.rebalance] %}
        {%- for leg in s.legs %},
        is_processed and {{ rebalance }}
        and coalesce(({{ strategy_own_rank(s, leg.exit) }}), false) as {{ s.name }}__exit_{{ leg.side }},
        is_processed and {{ rebalance }} and {{ strategy_in_universe(s) }}
        and coalesce(({{ strategy_own_rank(s, leg.entry) }}), false) as {{ s.name }}__entry_{{ leg.side }}
        {%- endfor %}
        {%- if s.sizing.max_positions %},
        {%- if s.priority %}
        ({{ strategy_own_rank(s, s.priority) }})::float8 as {{ s.name }}__priority
        {%- else %}
        null::float8 as {{ s.name }}__priority
        {%- endif %}
        {%- endif %}
        {%- endfor %}
    from {{ G }}{{ 'ranked' if ranked and not rank_early else 'lagged' }}

),

{{ G }}coded as (

    -- each leg's decision at a bar, as bar_number * 2 + (0 exit | 1 entry): the running
    -- maximum is then the latest decision; an anchor carries the stored one
    select
        *
        {%- for s in strategies %}{%- for leg in s.legs %},
        case
            when is_anchor then bar_number * 2 + {{ s.name }}__stored_target_{{ leg.side }}
            when {{ s.name }}__exit_{{ leg.side }} then bar_number * 2
            when {{ s.name }}__entry_{{ leg.side }} then bar_number * 2 + 1
        end as {{ s.name }}__code_{{ leg.side }}
        {%- endfor %}{%- endfor %}
    from {{ G }}events

),

{{ G }}decided as (

    -- each leg's decided side at a bar: the latest decision up to it
    select
        *
        {%- for s in uncapped %}{%- for leg in s.legs %},
        coalesce(max({{ s.name }}__code_{{ leg.side }}) over running % 2, 0) as {{ s.name }}__decided_{{ leg.side }}
        {%- endfor %}{%- endfor %}
        {%- for s in capped %},
        -- whether the symbol's previous event was an entry: an exit after an exit changes nothing
        max({{ s.name }}__code_{{ s.legs[0].side }}) over before_row % 2 as {{ s.name }}__previous_event
        {%- endfor %}
    from {{ G }}coded
    window
        running as (partition by symbol order by trade_date rows unbounded preceding),
        before_row as (
            partition by symbol order by trade_date rows between unbounded preceding and 1 preceding
        )

),

{%- for s in capped %}
{%- set leg = s.legs[0].side %}

{{ s.name }}__slots as (

    -- the symbols holding a slot after each session with candidates, and the changes
    select
        changed.symbol,
        held.trade_date,
        changed.slot
    from (
        select
            trade_date,
            held_after,
            lag(held_after, 1, initial) over by_session as held_before
        from (
            select
                trade_date,
                initial,
                udf.strategy_slots(exits, entries, {{ s.sizing.max_positions }}, initial)
                    over (by_session rows unbounded preceding) as held_after
            from (
                select
                    candidates.trade_date,
                    array_agg(candidates.symbol order by candidates.symbol)
                        filter (where not candidates.is_entry) as exits,
                    array_agg(candidates.symbol order by candidates.priority desc nulls last, candidates.symbol)
                        filter (where candidates.is_entry) as entries,
                    {%- if full %}
                    '{}'::text[] as initial
                    {%- else %}
                    coalesce((
                        select array_agg(stored.symbol order by stored.symbol)
                        from {{ s.name }}__stored as stored
                        where stored.target_{{ leg }} = 1
                    ), '{}'::text[]) as initial
                    {%- endif %}
                from (
                    select
                        symbol,
                        trade_date,
                        {{ s.name }}__priority as priority,
                        not ({{ s.name }}__exit_{{ leg }} or stale_last) as is_entry
                    from {{ G }}decided
                    where is_processed and (
                        ({{ s.name }}__entry_{{ leg }} and not {{ s.name }}__exit_{{ leg }})
                        or ({{ s.name }}__exit_{{ leg }} and {{ s.name }}__previous_event = 1)
                        or stale_last
                    )
                ) as candidates
                group by candidates.trade_date
            ) as per_session
            window by_session as (order by trade_date)
        ) as scanned
        window by_session as (order by trade_date)
    ) as held
    cross join lateral (
        select entered.symbol, 1 as slot
        from unnest(held.held_after) as entered (symbol)
        where not entered.symbol = any(held.held_before)
        union all
        select left_slot.symbol, 0 as slot
        from unnest(held.held_before) as left_slot (symbol)
        where not left_slot.symbol = any(held.held_after)
    ) as changed

),
{%- endfor %}

{%- if capped %}

{{ G }}slotted as (

    -- a capped leg's decided side: the latest slot taken or freed up to the bar (and only the
    -- columns used from here on: narrower rows through the window passes)
    select
        {%- for c in carried_columns %}
        {{ c }},
        {%- endfor %}
        {%- for s in capped %}
        coalesce(max({{ s.name }}__slot_code) over running % 2, 0) as {{ s.name }}__decided_{{ s.legs[0].side }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from (
        select
            decided.*
            {%- for s in capped %}
            {%- set leg = s.legs[0].side %},
            case
                when decided.is_anchor then decided.bar_number * 2 + decided.{{ s.name }}__stored_target_{{ leg }}
                when {{ s.name }}__slots.slot is not null then decided.bar_number * 2 + {{ s.name }}__slots.slot
            end as {{ s.name }}__slot_code
            {%- endfor %}
        from {{ G }}decided as decided
        {%- for s in capped %}
        left join {{ s.name }}__slots
            on decided.symbol = {{ s.name }}__slots.symbol and decided.trade_date = {{ s.name }}__slots.trade_date
        {%- endfor %}
    ) as with_slots
    window running as (partition by symbol order by trade_date rows unbounded preceding)

),

{%- endif %}

{{ G }}executed as (

    -- executed: decided at the previous bar (held after this bar's execution point); overnight:
    -- held into this bar (the previous bar's executed side; after an anchor, its stored one)
    select
        {%- if capped %}
        *
        {%- else %}
        {%- for c in carried_columns %}
        {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
        {%- endif %}
        {%- for s in strategies %}{%- for leg in s.legs %},
        coalesce(lag({{ s.name }}__decided_{{ leg.side }}) over by_bar, 0) as {{ s.name }}__executed_{{ leg.side }},
        {%- if full %}
        coalesce(lag({{ s.name }}__decided_{{ leg.side }}, 2) over by_bar, 0) as {{ s.name }}__overnight_{{ leg.side }}
        {%- else %}
        case
            when lag(is_anchor) over by_bar then lag({{ s.name }}__stored_side_{{ leg.side }}) over by_bar
            else coalesce(lag({{ s.name }}__decided_{{ leg.side }}, 2) over by_bar, 0)
        end as {{ s.name }}__overnight_{{ leg.side }}
        {%- endif %}
        {%- endfor %}{%- endfor %}
    from {{ G }}{{ 'slotted' if capped else 'decided' }}
    window by_bar as (partition by symbol order by trade_date)

),

{{ G }}books as (

    -- one row per strategy and leg with a decision or a position: the bars of the sessions,
    -- and the anchors' stored books (from which the gap sessions are carried)
    {%- for s in strategies %}{%- set outer = loop %}{%- for leg in s.legs %}
    {%- set L = s.name ~ '__' %}
    select
        '{{ s.name }}' as strategy,
        '{{ leg.side }}' as side,
        symbol,
        trade_date,
        is_anchor,
        bar_number,
        session_number,
        next_bar_session_number,
        stale_last,
        open,
        high,
        low,
        close,
        dividend_factor,
        overnight_return,
        intraday_return,
        close_return,
        {{ 'true' if s.execution == 'next_open' else 'false' }} as next_open,
        case when stale_last then 0 else {{ L }}decided_{{ leg.side }} end as target,
        {{ L }}overnight_{{ leg.side }} as overnight,
        {{ L }}{{ 'executed' if s.execution == 'next_open' else 'overnight' }}_{{ leg.side }} as intraday,
        case
            when is_anchor then {{ L }}stored_side_{{ leg.side }}
            when stale_last then 0
            else {{ L }}executed_{{ leg.side }}
        end as end_side
    from {{ G }}executed
    where (is_processed or is_anchor)
        -- a decision, or a side held overnight, from the open (next_open) or at the close
        and (
            (not stale_last and {{ L }}decided_{{ leg.side }} <> 0)
            or {{ L }}overnight_{{ leg.side }} <> 0
            {%- if s.execution == 'next_open' %}
            or {{ L }}executed_{{ leg.side }} <> 0
            {%- else %}
            or (not is_anchor and not stale_last and {{ L }}executed_{{ leg.side }} <> 0)
            {%- endif %}
            {%- if not full %}
            or (is_anchor and {{ L }}stored_side_{{ leg.side }} <> 0)
            {%- endif %}
        )
    {%- if not (loop.last and outer.last) %}

    union all
    {%- endif %}
    {%- endfor %}{%- endfor %}

),

{{ G }}carried as (

    -- bar rows, and the sessions a symbol has no bar in while it holds a position or a
    -- decision: carried at its last price (return 0)
    select
        strategy,
        side,
        symbol,
        trade_date,
        true as has_bar,
        bar_number,
        next_open,
        target,
        overnight,
        intraday,
        end_side,
        stale_last,
        overnight_return,
        intraday_return,
        close_return,
        open,
        high,
        low,
        close,
        dividend_factor
    from {{ G }}books
    where not is_anchor

    union all

    select
        books.strategy,
        books.side,
        books.symbol,
        gap.trade_date,
        false as has_bar,
        null::bigint as bar_number,
        books.next_open,
        books.target,
        books.end_side as overnight,
        books.end_side as intraday,
        books.end_side,
        false as stale_last,
        0::float8 as overnight_return,
        0::float8 as intraday_return,
        0::float8 as close_return,
        null::float8 as open,
        null::float8 as high,
        null::float8 as low,
        null::float8 as close,
        null::float8 as dividend_factor
    from {{ G }}books as books
    cross join lateral generate_series(
        books.session_number + 1,
        coalesce(
            books.next_bar_session_number - 1,
            (select max(last_session.session_number) from {{ G }}sessions as last_session)
        )
    ) as gap_number (session_number)
    inner join {{ G }}sessions as gap on gap_number.session_number = gap.session_number
    where coalesce(books.next_bar_session_number, 'infinity'::float8) > books.session_number + 1
        and not books.stale_last
        and (books.target <> 0 or books.end_side <> 0)

),

{{ G }}counts as (

    -- positions per session and leg (equal weight divides among them)
    select
        strategy,
        trade_date,
        side,
        count(*) filter (where intraday <> 0) as intraday_positions,
        count(*) filter (where end_side <> 0) as end_positions
    from {{ G }}carried
    where strategy in ({{ strategy_name_list(strategies | selectattr('sizing.method', 'equalto', 'equal_weight') | map(attribute='name') | list) }})
    group by strategy, trade_date, side
    {%- if not full %}

    union all

    select
        strategy,
        trade_date,
        side,
        null as intraday_positions,
        count(*) filter (where weight <> 0) as end_positions
    from {{ this }}
    where strategy in ({{ strategy_name_list(strategies | map(attribute='name') | list) }})
        and trade_date = '{{ p.last_session }}'::date
        and symbol <> '$CASH'
    group by strategy, trade_date, side
    {%- endif %}

),

{%- set fixed = strategies | selectattr('sizing.method', 'equalto', 'fixed_fraction') | list %}
{%- set equal = strategies | selectattr('sizing.method', 'equalto', 'equal_weight') | list %}
{%- set sign = "(case carried.side when 'short' then -1 else 1 end)" %}
{{ G }}weighted as (

    {%- if fixed %}
    -- fixed_fraction: each position is the declared fraction of equity
    select
        carried.*,
        ({{ sign }} * carried.overnight) * fraction.value as overnight_weight,
        ({{ sign }} * carried.intraday) * fraction.value as intraday_weight,
        ({{ sign }} * carried.end_side) * fraction.value as weight
    from {{ G }}carried as carried
    inner join (
        values
        {%- for s in fixed %}
            ('{{ s.name }}', {{ s.sizing.fraction }}::float8){{ "," if not loop.last }}
        {%- endfor %}
    ) as fraction (strategy, value) on carried.strategy = fraction.strategy
    {%- endif %}
    {%- if fixed and equal %}

    union all
    {%- endif %}
    {%- if equal %}
    -- equal_weight: each position is 1/n of equity, n the positions of its side
    select
        carried.*,
        coalesce(({{ sign }} * carried.overnight)::float8 / nullif(previous_counts.end_positions, 0), 0)
            as overnight_weight,
        case
            when carried.next_open
                then coalesce(({{ sign }} * carried.intraday)::float8 / nullif(counts.intraday_positions, 0), 0)
            else coalesce(({{ sign }} * carried.intraday)::float8 / nullif(previous_counts.end_positions, 0), 0)
        end as intraday_weight,
        coalesce(({{ sign }} * carried.end_side)::float8 / nullif(counts.end_positions, 0), 0) as weight
    from {{ G }}carried as carried
    inner join {{ G }}sessions as sessions on carried.trade_date = sessions.trade_date
    left join {{ G }}counts as counts
        on carried.strategy = counts.strategy
        and carried.trade_date = counts.trade_date
        and carried.side = counts.side
    left join {{ G }}counts as previous_counts
        on carried.strategy = previous_counts.strategy
        and sessions.previous_session = previous_counts.trade_date
        and carried.side = previous_counts.side
    where carried.strategy in ({{ strategy_name_list(equal | map(attribute='name') | list) }})
    {%- endif %}

),

{{ G }}final as (

    select
        strategy,
        trade_date,
        symbol,
        side,
        has_bar,
        bar_number,
        target::smallint as target,
        overnight_weight,
        intraday_weight,
        weight,
        case
            when next_open then intraday <> 0 and overnight = 0
            else end_side <> 0 and intraday = 0
        end as entry,
        (next_open and overnight <> 0 and intraday = 0) or (intraday <> 0 and end_side = 0) as exit,
        case
            when intraday <> 0 and end_side = 0 then case when stale_last then 'last_bar' else 'signal' end
            when next_open and overnight <> 0 and intraday = 0 then 'signal'
        end as exit_reason,
        overnight_return,
        intraday_return,
        close_return,
        open,
        high,
        low,
        close,
        dividend_factor,
        null::text as fingerprint,
        null::timestamptz as inputs_loaded_at,
        null::timestamptz as built_at
    from {{ G }}weighted

    union all

    -- each session's cash row (1 - the positions' weights), with the strategy's state
    select
        declared.strategy,
        sessions.trade_date,
        '$CASH' as symbol,
        'cash' as side,
        false as has_bar,
        null::bigint as bar_number,
        0::smallint as target,
        1 - coalesce(sum(weighted.overnight_weight order by weighted.symbol, weighted.side), 0)
            as overnight_weight,
        1 - coalesce(sum(weighted.intraday_weight order by weighted.symbol, weighted.side), 0)
            as intraday_weight,
        1 - coalesce(sum(weighted.weight order by weighted.symbol, weighted.side), 0) as weight,
        false as entry,
        false as exit,
        null::text as exit_reason,
        0::float8 as overnight_return,
        0::float8 as intraday_return,
        0::float8 as close_return,
        null::float8 as open,
        null::float8 as high,
        null::float8 as low,
        null::float8 as close,
        null::float8 as dividend_factor,
        declared.fingerprint,
        {{ "'" ~ plan.watermark ~ "'::timestamptz" if plan.watermark else 'null::timestamptz' }} as inputs_loaded_at,
        '{{ run_started_at.isoformat() }}'::timestamptz as built_at
    from {{ G }}sessions as sessions
    cross join (
        values
        {%- for s in strategies %}
            ('{{ s.name }}', '{{ plan.strategies[s.name].fingerprint }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as declared (strategy, fingerprint)
    left join {{ G }}weighted as weighted
        on declared.strategy = weighted.strategy and sessions.trade_date = weighted.trade_date
    group by declared.strategy, declared.fingerprint, sessions.trade_date

)
{%- endmacro -%}

{#- a rule of strategy `s`, with rank_pct read from the strategy's own column -#}
{%- macro strategy_own_rank(s, sql) -%}
    {{- modules.re.sub("(?<![A-Za-z0-9_])rank_pct(?![A-Za-z0-9_])", s.name ~ "__rank_pct", sql) -}}
{%- endmacro -%}

{%- macro strategy_in_universe(s) -%}
    {%- if s.universe.kind == 'where' -%}coalesce(({{ s.universe.where }}), false){%- else -%}true{%- endif -%}
{%- endmacro -%}

{#- the input columns of the rows CTE, read from `alias` (bars) and daily_indicators -#}
{%- macro strategy_input_columns(alias, prices, from_bars, from_indicators) %}
        {{ alias }}.symbol,
        {{ alias }}.trade_date,
        {{ alias }}.bar_number,
        {%- for c in prices + from_bars %}
        {{ alias }}.{{ c }},
        {%- endfor %}
        {%- for c in from_indicators %}
        daily_indicators.{{ c }},
        {%- endfor %}
{%- endmacro -%}

{%- macro strategy_indicator_join(alias, indicators, from_indicators) -%}
    {%- if from_indicators %}
    left join {{ indicators }} as daily_indicators
        on {{ alias }}.symbol = daily_indicators.symbol and {{ alias }}.trade_date = daily_indicators.trade_date
    {%- endif -%}
{%- endmacro -%}

{%- macro strategy_universe_filter(alias, symbols, end) -%}
    {%- if symbols is not none %} and {{ alias }}.symbol in ({{ strategy_symbol_list(symbols) }}){%- endif -%}
    {%- if end %} and {{ alias }}.trade_date <= '{{ end }}'::date{%- endif -%}
{%- endmacro -%}

{#- rank_pct of each ranked strategy: percent rank of rank_by across the session's universe -#}
{%- macro strategy_rank_ctes(G, ranked, source) -%}
{{ G }}evaluated as (

    select
        *
        {%- for s in ranked %},
        ({{ s.rank_by }})::float8 as {{ s.name }}__rank_value,
        {{ strategy_in_universe(s) }} as {{ s.name }}__ranked
        {%- endfor %}
    from {{ source }}

),

{{ G }}ranked as (

    -- rank_pct: percent rank of rank_by across the session's universe
    select
        *
        {%- for s in ranked %},
        case when is_processed and {{ s.name }}__ranked and {{ s.name }}__rank_value is not null then
            percent_rank() over (
                partition by
                    trade_date, is_processed and {{ s.name }}__ranked and {{ s.name }}__rank_value is not null
                order by {{ s.name }}__rank_value
            )
        end as {{ s.name }}__rank_pct
        {%- endfor %}
    from {{ G }}evaluated

),
{%- endmacro -%}
