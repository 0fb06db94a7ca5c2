{#-
  Trading signals, one row per symbol, trading day and signal that fired: the signals declared in
  var('signals') (dbt_project.yml), each a rule over the day's indicator and bar columns and
  previous_<column> (the symbol's previous bar), with its direction and the value behind it.
  A rule reading the previous bar needs both days' values (no signal in warm-up rows). Adding a
  signal is a declaration, not an edit here. Incremental from each symbol's first changed bar.
-#}
{%- set signals = signal_declarations() %}
{%- set columns = [] %}
{%- set lags = [] %}
{%- for signal in signals %}
    {%- for c in signal.columns if c not in columns %}{%- do columns.append(c) %}{%- endfor %}
    {%- for c in signal.lags if c not in lags %}{%- do lags.append(c) %}{%- endfor %}
{%- endfor %}
{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date', 'signal'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_from_restart_points(ref('int_daily_indicators_computed')) }}",
        indexes=[{'columns': ['symbol', 'trade_date', 'signal'], 'unique': True}],
    )
}}

with

{% if is_incremental() %}

    restarts as (

        {{ incremental_restart_points(ref('int_daily_indicators_computed'), this) }}

    ),

    starts as (

    -- per symbol, its restart and the bar before it (a cross needs the previous day's values),
    -- found through the engine's (symbol, trade_date) index
        select
            restarts.symbol,
            restarts.restart_date,
            coalesce(previous.trade_date, restarts.restart_date) as read_from
        from restarts
        left join lateral (
            select computed.trade_date
            from {{ ref('int_daily_indicators_computed') }} as computed
            where computed.symbol = restarts.symbol and computed.trade_date < restarts.restart_date
            order by computed.trade_date desc
            limit 1
        ) as previous on true

    ),

    indicators as (

        select
            computed.*,
            starts.restart_date
        from starts
        inner join {{ ref('int_daily_indicators_computed') }} as computed
            on starts.symbol = computed.symbol and starts.read_from <= computed.trade_date

    ),

{% else %}

    indicators as (

        select * from {{ ref('int_daily_indicators_computed') }}

    ),

{% endif %}

with_previous as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        {%- for c in columns if c not in ['symbol', 'trade_date', 'bar_number', 'close'] %}
        {{ c }},
        {%- endfor %}
        source_loaded_at,
        {%- if is_incremental() %}
            restart_date,
        {%- endif %}
        {%- for c in lags %}
        lag({{ c }}) over by_date as previous_{{ c }},
        {%- endfor %}
        lag(trade_date) over by_date as previous_trade_date
    from indicators
    window by_date as (partition by symbol order by trade_date)

),

-- The lateral values list reads the outer row's columns (one row per signal): qualifying each
-- of them would bury the declared rules, so RF02 is off for this CTE only.
-- noqa: disable=RF02
candidates as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
        source_loaded_at,
        s.signal,
        s.direction,
        s.value,
        s.fired
    from with_previous
    cross join
        lateral (
            values
            {%- for signal in signals %}
            (
                '{{ signal.name }}', '{{ signal.direction }}', ({{ signal.value }})::float8,
                coalesce(({{ signal.when }}), false)
            ){{ "," if not loop.last }}
            {%- endfor %}
        ) as s (signal, direction, value, fired)
    {% if is_incremental() -%}
        where with_previous.trade_date >= with_previous.restart_date
    {%- endif %}

-- noqa: enable=RF02
),

final as (

    select
        symbol,
        trade_date,
        signal,
        direction,
        value,
        close,
        bar_number,
        source_loaded_at
    from candidates
    where fired

)

select * from final
