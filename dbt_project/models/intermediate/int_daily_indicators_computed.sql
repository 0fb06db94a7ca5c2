{#-
  The indicator engine for daily bars: indicators plus the state an incremental run carries.
  Computed on the split-adjusted series, as TA-Lib computes them from the symbol's first bar
  (macros/technical_indicators.sql); marts.fct_daily_indicators exposes the indicators.

  Incremental: per symbol, recompute from the first changed bar (incremental_restart_points),
  reading at most `indicator_lookback_bars` earlier bars for the moving windows and continuing the
  recursive averages from the stored row just before it. Results are bit-identical to a full
  refresh. Symbols with fewer than 200 stored bars before the change are recomputed from their
  first bar (fewer rows than the look-back).
-#}
{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['symbol', 'trade_date'], 'unique': True}],
    )
}}

{%- set lookback = var('indicator_lookback_bars', 300) -%}
{%- set recursions = indicator_recursions() -%}
{%- set bar_columns = 'symbol, trade_date, high, low, close, volume, source_loaded_at' -%}

with

{% if is_incremental() %}

restarts as (

    {{ incremental_restart_points(ref('int_daily_bars_adjusted'), this) }}

),

stored_state as (

    select distinct on (stored.symbol)
        stored.symbol,
        restarts.restart_date,
        stored.bar_number as state_bar_number,
        stored.state_obv,
        {%- for q in recursions %}
        stored.state_{{ q }}_prefix,
        stored.state_{{ q }}_anchor{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored
    inner join restarts
        on restarts.symbol = stored.symbol and stored.trade_date < restarts.restart_date
    order by stored.symbol, stored.trade_date desc

),

continuing as (

    select * from stored_state where state_bar_number >= 200

),

continued_bars as (

    select
        bars.*,
        continuing.state_bar_number,
        continuing.state_obv,
        {%- for q in recursions %}
        continuing.state_{{ q }}_prefix,
        continuing.state_{{ q }}_anchor{{ "," if not loop.last }}
        {%- endfor %}
    from continuing
    cross join lateral (
        (
            select {{ bar_columns }}, false as is_output
            from {{ ref('int_daily_bars_adjusted') }} as b
            where b.symbol = continuing.symbol and b.trade_date < continuing.restart_date
            order by b.trade_date desc
            limit {{ lookback }}
        )
        union all
        (
            select {{ bar_columns }}, true as is_output
            from {{ ref('int_daily_bars_adjusted') }} as b
            where b.symbol = continuing.symbol and b.trade_date >= continuing.restart_date
        )
    ) as bars

),

continued_input as (

    select
        {{ bar_columns }},
        is_output,
        case
            when is_output then state_bar_number
                + row_number() over (partition by symbol, is_output order by trade_date)
            else state_bar_number + 1
                - row_number() over (partition by symbol, is_output order by trade_date desc)
        end as bar_number,
        state_bar_number,
        state_obv,
        {%- for q in recursions %}
        state_{{ q }}_prefix,
        state_{{ q }}_anchor{{ "," if not loop.last }}
        {%- endfor %}
    from continued_bars

),

recomputed_symbols as (

    select symbol from restarts
    except
    select symbol from continuing

),

{% endif %}

full_input as (

    select
        {{ bar_columns }},
        true as is_output,
        row_number() over (partition by symbol order by trade_date) as bar_number,
        0::bigint as state_bar_number,
        null::numeric as state_obv,
        {%- for q in recursions %}
        null::float8 as state_{{ q }}_prefix,
        null::float8 as state_{{ q }}_anchor{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_daily_bars_adjusted') }}
    {% if is_incremental() -%}
    where symbol in (select symbol from recomputed_symbols)
    {%- endif %}

),

indicator_input as (

    select * from full_input
    {% if is_incremental() -%}
    union all
    select * from continued_input
    {%- endif %}

),

computed as (

    select * from ({{ technical_indicators('indicator_input') }}) as indicators

),

final as (

    select * from computed

)

select * from final
