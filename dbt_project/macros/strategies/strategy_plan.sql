{#-
  What a run of int_strategy_positions_simulated does for each declared strategy, decided when it
  runs (run_query against the stored rows; at parse time every strategy is 'full'):
    full    no stored rows, a changed declaration (its fingerprint: rules, options, overrides,
            the resolved benchmark symbol), `--full-refresh`, a restated input bar (landed since
            the strategy's watermark, dated on or before its last session: a corrected bar, a
            new split or dividend), or a held symbol that just became stale: recompute it all;
    append  only new sessions landed: compute them from the stored book of the last session;
    skip    nothing new, or var backtest_strategies names other strategies.
  Each strategy's cash row ('$CASH') of every session carries its fingerprint and watermark, so
  one index probe per strategy finds its state. Strategies no longer declared are dropped
  (`removed`). Returns {'strategies': {name: {mode, last_session, watermark, symbols}},
  'removed': [...], 'watermark': the newest source_loaded_at of the bars now}.
-#}
{%- macro strategy_plan(strategies) -%}
    {%- set plan = {} -%}
    {%- set selection = strategy_selection() -%}
    {%- set resolved = strategy_resolve_universes(strategies) -%}
    {%- for s in strategies -%}
        {%- do plan.update({s.name: {
            'mode': 'full',
            'last_session': none,
            'watermark': none,
            'symbols': resolved[s.name],
            'fingerprint': local_md5(s.fingerprint ~ '|' ~ (resolved[s.name] or []) | join(',')),
        }}) -%}
    {%- endfor -%}
    {%- set out = {'strategies': plan, 'removed': [], 'watermark': none} -%}
    {%- set bars = ref('fct_daily_bars') -%}
    {#- parsing, or compiling before the bars exist (e.g. `dbt docs generate` on a new database) -#}
    {%- if not execute or adapter.get_relation(bars.database, bars.schema, bars.identifier) is none -%}
        {{ return(out) }}
    {%- endif -%}
    {%- set newest = run_query("select max(source_loaded_at)::text from " ~ bars) -%}
    {%- do out.update({'watermark': newest.columns[0].values()[0]}) -%}
    {%- if not is_incremental() -%}{{ return(out) }}{%- endif -%}
    {%- set names = strategies | map(attribute='name') | list -%}
    {%- set stored_query -%}
        select
            strategy,
            max(trade_date)::text as last_session,
            max(inputs_loaded_at)::text as watermark,
            (array_agg(fingerprint order by trade_date desc))[1] as fingerprint
        from {{ this }}
        where symbol = '$CASH'
        group by strategy
    {%- endset -%}
    {%- set stored = {} -%}
    {%- for row in run_query(stored_query).rows -%}
        {%- do stored.update({row[0]: {'last_session': row[1], 'watermark': row[2], 'fingerprint': row[3]}}) -%}
    {%- endfor -%}
    {%- for name in stored if name not in names -%}
        {%- do out.removed.append(name) -%}
    {%- endfor -%}
    {%- for s in strategies -%}
        {%- set p = plan[s.name] -%}
        {%- set old = stored.get(s.name) -%}
        {%- if selection and s.name not in selection and not s.benchmark -%}
            {%- do p.update({'mode': 'skip'}) -%}
        {%- elif old is none or old.fingerprint != p.fingerprint or old.watermark is none -%}
            {%- do p.update({'mode': 'full'}) -%}
        {%- else -%}
            {%- do p.update({'last_session': old.last_session, 'watermark': old.watermark}) -%}
            {%- set symbols = p.symbols -%}
            {%- set probe -%}
                with changed as (
                    select symbol, trade_date
                    from {{ bars }}
                    where source_loaded_at > '{{ old.watermark }}'::timestamptz
                    {%- if symbols is not none %}
                        and symbol in ({{ strategy_symbol_list(symbols) }})
                    {%- endif %}
                    {%- if s.end %}
                        and trade_date <= '{{ s.end }}'::date
                    {%- endif %}
                ),

                held as (
                    -- the symbols with a position or a decision at the last session, and how
                    -- many of the strategy's sessions have passed since each one's last bar
                    select
                        stored.symbol,
                        (
                            select count(*)
                            from {{ this }} as sessions
                            where sessions.strategy = stored.strategy
                                and sessions.symbol = '$CASH'
                                and sessions.trade_date > last_bar.trade_date
                        ) as sessions_since
                    from {{ this }} as stored
                    cross join lateral (
                        select bars.trade_date
                        from {{ bars }} as bars
                        where bars.symbol = stored.symbol
                        order by bars.trade_date desc
                        limit 1
                    ) as last_bar
                    where stored.strategy = '{{ s.name }}'
                        and stored.trade_date = '{{ old.last_session }}'::date
                        and stored.symbol <> '$CASH'
                )

                select
                    exists (select 1 from changed where trade_date <= '{{ old.last_session }}'::date)
                        as restated,
                    (select count(distinct trade_date) from changed
                     where trade_date > '{{ old.last_session }}'::date) as new_sessions,
                    exists (
                        select 1 from held
                        where held.symbol not in (
                            select changed.symbol from changed
                            where changed.trade_date > '{{ old.last_session }}'::date
                        )
                    ) as held_without_new_bar,
                    (select max(sessions_since) from held) as most_sessions_since
            {%- endset -%}
            {%- set found = run_query(probe).rows[0] -%}
            {%- set stale_after = var('stale_after_sessions', 5) -%}
            {%- if found[0] -%}
                {%- do p.update({'mode': 'full'}) -%}
            {%- elif found[1] == 0 -%}
                {%- do p.update({'mode': 'skip'}) -%}
            {%- elif found[2] and (found[3] or 0) + found[1] >= stale_after -%}
                {#- a held symbol without a bar in the new sessions may now be stale: its
                    position closes at its last bar, which rewrites stored sessions -#}
                {%- do p.update({'mode': 'full'}) -%}
            {%- else -%}
                {%- do p.update({'mode': 'append'}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro -%}

{#- per strategy: its symbols (a list, or for first_of the first symbol the warehouse has; []
    when it has none) or none (all symbols, or a where-filter) -#}
{%- macro strategy_resolve_universes(strategies) -%}
    {%- set out = {} -%}
    {%- for s in strategies -%}
        {%- if s.universe.kind == 'symbols' -%}
            {%- do out.update({s.name: s.universe.symbols}) -%}
        {%- elif s.universe.kind == 'first_of' -%}
            {%- set bars = ref('fct_daily_bars') -%}
            {%- if execute and adapter.get_relation(bars.database, bars.schema, bars.identifier) is not none -%}
                {%- set query -%}
                    select wanted.symbol
                    from unnest(array[{{ strategy_symbol_list(s.universe.symbols) }}])
                        with ordinality as wanted (symbol, position)
                    where exists (
                        select 1 from {{ ref('fct_daily_bars') }} as bars
                        where bars.symbol = wanted.symbol
                    )
                    order by wanted.position
                    limit 1
                {%- endset -%}
                {%- do out.update({s.name: run_query(query).columns[0].values() | list}) -%}
            {%- else -%}
                {%- do out.update({s.name: s.universe.symbols[:1]}) -%}
            {%- endif -%}
        {%- else -%}
            {%- do out.update({s.name: none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro -%}

{%- macro strategy_symbol_list(symbols) -%}
    {%- if symbols | length == 0 -%}null::text{%- else -%}
    {%- for symbol in symbols -%}'{{ symbol }}'{{ ", " if not loop.last }}{%- endfor -%}
    {%- endif -%}
{%- endmacro -%}

{#- pre-hook of int_strategy_positions_simulated: drop what this run recomputes -#}
{%- macro strategy_positions_delete() -%}
    {%- if is_incremental() -%}
        {%- set plan = strategy_plan(strategy_declarations()) -%}
        {%- set full = [] -%}
        {%- for name, p in plan.strategies.items() if p.mode == 'full' -%}{%- do full.append(name) -%}{%- endfor -%}
        {%- set dropped = full + plan.removed -%}
        delete from {{ this }}
        where strategy in ({{ strategy_name_list(dropped) }})
        {%- for name, p in plan.strategies.items() if p.mode == 'append' %}
            or (strategy = '{{ name }}' and trade_date > '{{ p.last_session }}'::date)
        {%- endfor %}
    {%- endif -%}
{%- endmacro -%}

{%- macro strategy_name_list(names) -%}
    {%- if names | length == 0 -%}null{%- else -%}
    {%- for name in names -%}'{{ name }}'{{ ", " if not loop.last }}{%- endfor -%}
    {%- endif -%}
{%- endmacro -%}
