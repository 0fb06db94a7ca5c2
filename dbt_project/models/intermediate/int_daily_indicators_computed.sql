{#-
  The indicator engine for daily bars: indicators plus the state an incremental run carries.
  Computed on the split-adjusted series, as TA-Lib computes them from the symbol's first bar
  (macros/technical_indicators.sql); marts.fct_daily_indicators exposes the indicators.

  Incremental: per symbol, recompute from the first changed bar (incremental_restart_points).
  The stored rows just before it (indicator_window_reach(): the registry's longest short window,
  31 bars today) supply the short windows (with their high, low, close and volume) and the
  carried state (running sums, recursive averages); the running sum of the close 50 and 200 bars
  back (indicator_fetched_lags()) is fetched by bar number through the (symbol, bar_number)
  index rather than read as rows. So the result is bit-identical to a full refresh. Symbols with
  fewer stored bars before the change than the longest window or seed (indicator_lookback(), at
  least `indicator_lookback_bars`) are recomputed from their first bar.
-#}
{#- indexes: the key, the bar number (an incremental run fetches the running sums 50 and 200 bars
    back by it), and the watermark (an incremental run's max(source_loaded_at) is one probe) -#}
{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['symbol', 'trade_date'], 'unique': True},
                 {'columns': ['symbol', 'bar_number'], 'unique': True},
                 {'columns': ['source_loaded_at']}],
    )
}}

{%- set lookback = indicator_lookback() -%}
{%- set reach = indicator_window_reach() -%}
{%- set stored = indicator_stored_columns() -%}
{%- set fetched_lags = indicator_fetched_lags() -%}

-- depends_on: {{ ref('int_corporate_actions_unioned') }} (the restart points of an increment)
with

{% if is_incremental() %}

{{ incremental_restart_scaffold(ref('int_daily_bars_adjusted'), events=ref('int_corporate_actions_unioned')) }}

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
        look_back.{{ c }}{{ "," if fetched_lags or not loop.last }}
        {%- endfor %}
        {%- for c in indicator_fetched_columns() %}
        null::float8 as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from continuing
    cross join lateral (
        select *
        from {{ this }} as computed
        where computed.symbol = continuing.symbol
            and computed.trade_date < continuing.restart_date
        order by computed.trade_date desc
        limit {{ reach }}
    ) as look_back

),

changed_bars as (

    select
        bars.symbol,
        bars.trade_date,
        continuing.state_bar_number
            + row_number() over (partition by bars.symbol order by bars.trade_date) as bar_number,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.source_loaded_at,
        continuing.state_bar_number
    from continuing
    {{ per_symbol_rows(ref('int_daily_bars_adjusted'), 'continuing',
                       since='continuing.restart_date') }} as bars

),

changed_rows as (

    select
        changed_bars.symbol,
        changed_bars.trade_date,
        changed_bars.bar_number,
        true as is_output,
        changed_bars.high,
        changed_bars.low,
        changed_bars.close,
        changed_bars.volume,
        changed_bars.source_loaded_at,
        changed_bars.state_bar_number,
        {%- for c in stored %}
        null::float8 as {{ c }}{{ "," if fetched_lags or not loop.last }}
        {%- endfor %}
        {%- for p in fetched_lags %}
        lagged_{{ p }}.running_close as lagged_running_close_{{ p }}{{ "," if not loop.last }}
        {%- endfor %}
    from changed_bars
    {%- for p in fetched_lags %}
    -- the stored running sum {{ p }} bars back (stored rows end at the carried row): one index
    -- probe per changed bar (a join would read the whole stored table)
    left join lateral (
        select stored.running_close
        from {{ this }} as stored
        where stored.symbol = changed_bars.symbol
            and stored.bar_number = changed_bars.bar_number - {{ p }}
            and stored.bar_number <= changed_bars.state_bar_number
        limit 1  -- (symbol, bar_number) is unique; keeps it a probe, not a hash join
    ) as lagged_{{ p }} on true
    {%- endfor %}

),

recomputed_symbols as (

    select symbol from restarts
    except
    select symbol from continuing

),

{% endif %}

whole_series as (

    select
        bars.symbol,
        bars.trade_date,
        row_number() over (partition by bars.symbol order by bars.trade_date) as bar_number,
        true as is_output,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.source_loaded_at,
        {{ indicator_no_carried_state() }}
    {%- if is_incremental() %}
    from recomputed_symbols
    {{ per_symbol_rows(ref('int_daily_bars_adjusted'), 'recomputed_symbols') }} as bars
    {%- else %}
    from {{ ref('int_daily_bars_adjusted') }} as bars
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

{% if incremental_has_restarts(ref('int_daily_bars_adjusted'),
                               events=ref('int_corporate_actions_unioned')) -%}
select * from final
{%- else -%}
-- nothing landed since the last run: the stored columns, no rows (unreferenced, the CTEs above
-- are not planned)
select * from {{ this }} where false
{%- endif %}
