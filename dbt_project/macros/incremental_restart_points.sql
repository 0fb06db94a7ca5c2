{#-
  For an incremental model over `relation` (with symbol, trade_date, source_loaded_at): per
  symbol, the first trade_date that changed since the model last saw its input - new bars, a
  restated bar, or (through source_loaded_at) a new corporate action, which restates the whole
  symbol. Symbols absent from the result are untouched.

  `events` (optional): the relation of the events that restate a symbol (symbol, loaded_at),
  when `relation` computes source_loaded_at as the newest of its own `loaded_at` and those
  events'. The same restart points are then found from the two landing times separately, so
  that the filters reach the raw tables instead of computing the whole view to compare a
  greatest() of them (the adjusted bars: a full pass over every bar on each run, 0.5 s at 619k
  bars, most of an increment's fixed cost).
-#}
{% macro incremental_restart_points(relation, this_relation, events=none) %}
    select symbol, min(trade_date) as restart_date
    from ({{ incremental_changed_bars(relation, this_relation, events) }}) as changed
    group by symbol
{% endmacro %}

{#- the (symbol, trade_date) rows behind incremental_restart_points, before grouping -#}
{% macro incremental_changed_bars(relation, this_relation, events=none) %}
    {%- set watermark -%}
        (select coalesce(max(source_loaded_at), '-infinity'::timestamptz) from {{ this_relation }})
    {%- endset -%}
    {%- if events is none %}
    select symbol, trade_date from {{ relation }}
    where source_loaded_at > {{ watermark }}
    {%- else %}
    select symbol, trade_date from {{ relation }}
    where loaded_at > {{ watermark }}
    union all
    select symbol, trade_date from {{ relation }}
    where symbol in (select symbol from {{ events }} where loaded_at > {{ watermark }})
    {%- endif %}
{% endmacro %}

{#-
  The restart scaffold of a per-symbol incremental model keyed (symbol, trade_date) with a
  bar_number: two CTEs, `restarts` (incremental_restart_points) and `last_stored` - per
  restarting symbol, its restart_date, the bar_number of its last stored row before it
  (state_bar_number, 0 when none) and the `carried` expressions of that row (over alias
  `stored`). The last row is found through the model's (symbol, trade_date) index, one probe per
  symbol, instead of sorting the stored table. `symbols` (an SQL array expression): only those
  symbols (a bucket of over_symbol_buckets). Emits `restarts as (...), last_stored as (...),`.
-#}
{% macro incremental_restart_scaffold(upstream, carried={}, events=none, symbols=none) %}
restarts as (

    {%- if symbols %}
    select * from ({{ incremental_restart_points(upstream, this, events) }}) as points
    where symbol = any({{ symbols }})
    {%- else %}
    {{ incremental_restart_points(upstream, this, events) }}
    {%- endif %}

),

last_stored as (

    select
        restarts.symbol,
        restarts.restart_date,
        coalesce(previous.bar_number, 0) as state_bar_number
        {%- for name in carried %},
        previous.{{ name }}
        {%- endfor %}
    from restarts
    left join lateral (
        select
            stored.bar_number
            {%- for name, expression in carried.items() %},
            {{ expression }} as {{ name }}
            {%- endfor %}
        from {{ this }} as stored
        where stored.symbol = restarts.symbol and stored.trade_date < restarts.restart_date
        order by stored.trade_date desc
        limit 1
    ) as previous on true

),
{% endmacro %}

{#-
  Whether an incremental run of the current model has anything to recompute: the restart points
  (incremental_restart_points, the same filters) are not empty - asked of the changed bars before
  grouping, so the answer stops at the first one (grouping 5.5 M new bars took 3 s). Asked once,
  at run time, so that a run with nothing new skips planning the model's statement (the
  engine's is planned in ~0.12 s, more than it then runs). True on a full build and while
  parsing.
-#}
{% macro incremental_has_restarts(relation, events=none) %}
    {%- if not execute or not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set probe -%}
        select exists ({{ incremental_changed_bars(relation, this, events) }}) as has_restarts
    {%- endset -%}
    {{ return(run_query(probe).columns[0].values()[0]) }}
{% endmacro %}

{#-
  `cross join lateral (...)`: for each row of `outer` (an alias with a symbol column), the
  symbol's rows of `relation`, from trade_date `since` on (an expression over `outer`, e.g. its
  restart_date) when given. One subquery per symbol, so the filters reach the raw tables' keys: a
  join would compute the whole adjusted view first, and `offset 0` keeps the planner from
  flattening the subquery into one. The caller names it (`... as bars`).
-#}
{% macro per_symbol_rows(relation, outer, since=none) -%}
cross join lateral (
        select per_symbol.*
        from {{ relation }} as per_symbol
        where per_symbol.symbol = {{ outer }}.symbol
            {%- if since is not none %}
            and per_symbol.trade_date >= {{ since }}
            {%- endif %}
        offset 0  -- noqa: AM09
    )
{%- endmacro %}
