{#-
  Every declared strategy's book, one row per strategy, session, symbol and leg that holds a
  position or a decision, plus one cash row per session: the weights held overnight (into the
  session), intraday (from its open) and at its close, the entry and exit executions, and the
  returns of the symbol's bar. Built from var('strategies') (macros/strategies/); see
  strategy_group_sql() for the rules of the simulation and strategy_plan() for what a run
  recomputes: per strategy everything (new or changed declaration, restated input), only the new
  sessions, or nothing. The cash rows carry each strategy's fingerprint and watermarks.
  Hooks: work_mem for the in-memory sorts of a full build, and hash joins (the CTEs' row
  estimates are far off; merge joins sorted ~800k rows for nothing: -2 s of 16 on 505 symbols).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["set work_mem = '256MB'", "set enable_mergejoin = off",
                  "{{ strategy_positions_delete() }}"],
        post_hook=["reset work_mem", "reset enable_mergejoin"],
        indexes=[{'columns': ['strategy', 'symbol', 'side', 'trade_date'], 'unique': True},
                 {'columns': ['strategy', 'trade_date']}],
    )
}}

-- depends_on: {{ ref('fct_daily_bars') }}
-- depends_on: {{ ref('fct_daily_indicators') }}
{%- set strategies = strategy_declarations() %}
{%- set plan = strategy_plan(strategies) %}
{#- strategies that read the same bars the same way share one pass over them -#}
{%- set groups = {} %}
{%- set built = [] %}
{%- for s in strategies if plan.strategies[s.name].mode in ['full', 'append'] %}
    {%- set p = plan.strategies[s.name] %}
    {%- set key = [p.mode, p.last_session, p.watermark, '*' if p.symbols is none else p.symbols | join(',')] | join('|') %}
    {%- if key not in groups %}{%- do groups.update({key: []}) %}{%- endif %}
    {%- do groups[key].append(s) %}
    {%- do built.append(s) %}
{%- endfor %}

with

{% for key, members in groups.items() %}
{{ strategy_group_sql('strategies_' ~ loop.index, members, plan) }},
{% endfor %}

final as (

    {%- for key in groups %}
    select * from strategies_{{ loop.index }}__final
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not groups %}
    select
        null::text as strategy,
        null::date as trade_date,
        null::text as symbol,
        null::text as side,
        null::boolean as has_bar,
        null::bigint as bar_number,
        null::smallint as target,
        null::float8 as overnight_weight,
        null::float8 as intraday_weight,
        null::float8 as weight,
        null::boolean as entry,
        null::boolean as exit,
        null::text as exit_reason,
        null::float8 as overnight_return,
        null::float8 as intraday_return,
        null::float8 as close_return,
        null::float8 as open,
        null::float8 as high,
        null::float8 as low,
        null::float8 as close,
        null::float8 as dividend_factor,
        null::text as fingerprint,
        null::timestamptz as inputs_loaded_at,
        null::timestamptz as built_at
    where false
    {%- endif %}

)

select * from final
