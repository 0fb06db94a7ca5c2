{#- Shared pieces of the strategy marts (fct_strategy_*). -#}

{#- one row per declared strategy: its parameters, as a relation (strategy_parameters as (...)) -#}
{%- macro strategy_parameters() -%}
    select *
    from (
        values
        {%- for s in strategy_declarations() %}
            (
                '{{ s.name }}'::text,
                {{ s.capital }}::float8,
                {{ s.cost_bps }}::float8,
                {{ s.cost_per_trade }}::float8,
                {{ 'true' if s.execution == 'next_open' else 'false' }},
                {{ 'true' if s.benchmark else 'false' }},
                {{ "'" ~ s.start ~ "'::date" if s.start else 'null::date' }},
                {{ "'" ~ s.end ~ "'::date" if s.end else 'null::date' }},
                {{ "'" ~ (s.description | replace("'", "''")) ~ "'" }}::text
            ){{ "," if not loop.last }}
        {%- endfor %}
    ) as declared (
        strategy, capital, cost_bps, cost_per_trade, next_open, benchmark, backtest_start,
        backtest_end, description
    )
{%- endmacro -%}

{#-
  Per strategy, the first session of int_strategy_positions_simulated rebuilt since `relation`
  last read it (its column positions_built_at): '-infinity' when every session was rebuilt
  (recompute it all), none when nothing was. Strategies no longer in the positions are dropped.
-#}
{%- macro strategy_restarts(relation=none, positions=none) -%}
    {%- set positions = positions or ref('int_strategy_positions_simulated') -%}
    {%- if relation is none %}
    select distinct cash.strategy, '-infinity'::date as restart_date
    from {{ positions }} as cash
    where cash.symbol = '$CASH'
        and cash.strategy in ({{ strategy_name_list(strategy_declarations() | map(attribute='name') | list) }})
    {%- else %}
    select
        cash.strategy,
        case
            when min(cash.trade_date) filter (where cash.built_at > coalesce(seen.built_at, '-infinity'))
                = min(cash.trade_date)
                then '-infinity'::date
            else min(cash.trade_date) filter (where cash.built_at > coalesce(seen.built_at, '-infinity'))
        end as restart_date
    from {{ positions }} as cash
    left join (
        select strategy, max(positions_built_at) as built_at
        from {{ relation }}
        group by strategy
    ) as seen on cash.strategy = seen.strategy
    where cash.symbol = '$CASH'
        and cash.strategy in ({{ strategy_name_list(strategy_declarations() | map(attribute='name') | list) }})
    group by cash.strategy
    having bool_or(cash.built_at > coalesce(seen.built_at, '-infinity'))
    {%- endif %}
{%- endmacro -%}

{#- pre-hook: delete a strategy mart's rows from each restart on (`since`: the condition on `stored`
    and `restarts` that marks a row as from the restart on) and the strategies no longer declared -#}
{%- macro strategy_mart_delete(since, positions=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as stored
        using ({{ strategy_restarts(this, positions) }}) as restarts
        where stored.strategy = restarts.strategy and ({{ since }});
        delete from {{ this }}
        where strategy not in ({{ strategy_name_list(strategy_declarations() | map(attribute='name') | list) }})
    {%- endif -%}
{%- endmacro -%}
