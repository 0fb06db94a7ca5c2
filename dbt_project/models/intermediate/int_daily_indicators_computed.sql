{#-
  The indicator engine for daily bars: indicators plus the state an incremental run carries.
  Computed on the split-adjusted series, as TA-Lib computes them from the symbol's first bar
  (macros/technical_indicators.sql); marts.fct_daily_indicators exposes the indicators.

  Incremental: per symbol, recompute from the first changed bar (incremental_restart_points).
  The stored rows before it (indicator_lookback(): the registry's longest window or seed, at least
  `indicator_lookback_bars`) supply the moving windows (with their high, low, close and volume)
  and the carried state (running sums, recursive averages), so the result is bit-identical to a
  full refresh. Symbols with fewer stored bars than that before the change are recomputed from
  their first bar.
-#}
{#- indexes: the key, and the watermark (an incremental run's max(source_loaded_at) is one probe) -#}
{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['symbol', 'trade_date'], 'unique': True},
                 {'columns': ['source_loaded_at']}],
    )
}}

{%- set lookback = indicator_lookback() -%}
{%- set stored = indicator_stored_columns() -%}

with

{% if is_incremental() %}

{{ incremental_restart_scaffold(ref('int_daily_bars_adjusted')) }}

continuing as (

    select * from last_stored where state_bar_number >= {{ lookback }}

),

look_back_rows as (

    select
        look_back.symbol,
        look_back.trade_date,
        look_back.bar_number,
        false as is_output,
        look_back.high,
        look_back.low,
        look_back.close,
        look_back.volume,
        look_back.source_loaded_at,
        continuing.state_bar_number,
        {%- for c in stored %}
        look_back.{{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from continuing
    cross join lateral (
        select *
        from {{ this }} as computed
        where computed.symbol = continuing.symbol
            and computed.trade_date < continuing.restart_date
        order by computed.trade_date desc
        limit {{ lookback }}
    ) as look_back

),

changed_rows as (

    select
        bars.symbol,
        bars.trade_date,
        continuing.state_bar_number
            + row_number() over (partition by bars.symbol order by bars.trade_date) as bar_number,
        true as is_output,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.source_loaded_at,
        continuing.state_bar_number,
        {%- for c in stored %}
        null::float8 as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from continuing
    inner join {{ ref('int_daily_bars_adjusted') }} as bars
        on bars.symbol = continuing.symbol and bars.trade_date >= continuing.restart_date

),

recomputed_symbols as (

    select symbol from restarts
    except
    select symbol from continuing

),

{% endif %}

whole_series as (

    select
        symbol,
        trade_date,
        row_number() over (partition by symbol order by trade_date) as bar_number,
        true as is_output,
        high,
        low,
        close,
        volume,
        source_loaded_at,
        {{ indicator_no_carried_state() }}
    from {{ ref('int_daily_bars_adjusted') }}
    {% if is_incremental() -%}
    where symbol in (select symbol from recomputed_symbols)
    {%- endif %}

),

indicator_input as (

    select * from whole_series
    {% if is_incremental() -%}
    union all
    select * from look_back_rows
    union all
    select * from changed_rows
    {%- endif %}

),

computed as (

    select * from (
        {{ technical_indicators('indicator_input', carried=is_incremental()) }}
    ) as indicators

),

final as (

    select * from computed

)

select * from final
