{#-
  The indicator engine for daily bars: indicators plus the state an incremental run carries.
  Computed on the split-adjusted series, as TA-Lib computes them from the symbol's first bar
  (macros/technical_indicators.sql); marts.fct_daily_indicators exposes the indicators.

  Incremental: per symbol, recompute from the first changed bar (incremental_restart_points).
  The stored rows just before it (indicator_window_reach(): the registry's longest short window)
  supply the short windows (with their high, low, close and volume) and the carried state
  (running sums, recursive averages, scans); the running sum of the close further back than that
  (indicator_fetched_lags(): 50 and 200 bars) is fetched by bar number through the
  (symbol, bar_number) index rather than read as rows. So the result is bit-identical to a full
  refresh. Symbols with fewer stored bars before the change than the longest window or seed
  (indicator_lookback(), at least `indicator_lookback_bars`) are recomputed from their first bar.

  Split over the server's cores (macros/symbol_buckets.sql): the statement below runs once per
  bucket of symbols, the buckets in parallel, when there are enough symbols to compute.
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
        post_hook=["drop function if exists {{ this.schema }}.{{ this.identifier }}__bucket(text[])"],
    )
}}

{%- set engine = indicator_engine() -%}
{%- set stored = indicator_stored_columns(engine) -%}
{%- set fetched_lags = indicator_fetched_lags(engine) -%}
{%- set bars = ref('int_daily_bars_adjusted') -%}
{%- set events = ref('int_corporate_actions_unioned') -%}

-- depends_on: {{ events }} (the restart points of an increment)
{%- set columns = indicator_result_columns(engine=engine) %}
{% call(symbols) over_symbol_buckets(bars, columns, events=events) %}
    with

    {% if is_incremental() %}

    {{ incremental_restart_scaffold(bars, events=events, symbols=symbols) }}

        continuing as (

            select * from last_stored
            where state_bar_number >= {{ indicator_lookback(engine) }}

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
                {% for c in stored %}
                    look_back.{{ c }},
                {% endfor %}
                -- fetched by bar number for output rows only
                {% for c in indicator_fetched_columns(engine) %}
                    null::float8 as {{ c }},
                {% endfor %}
                true as is_look_back
            from continuing
            cross join lateral (
                select *
                from {{ this }} as computed
                where
                    computed.symbol = continuing.symbol
                    and computed.trade_date < continuing.restart_date
                order by computed.trade_date desc
                limit {{ indicator_window_reach(engine) }}
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
            {{ per_symbol_rows(bars, 'continuing', since='continuing.restart_date') }} as bars

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
                {% for c in stored %}
                    null::float8 as {{ c }},
                {% endfor %}
                -- fetched by bar number (below)
                {% for p in fetched_lags %}
                    lagged_{{ p }}.running_close as lagged_running_close_{{ p }},
                {% endfor %}
                false as is_look_back
            from changed_bars
            {% for p in fetched_lags %}
                -- the stored running sum {{ p }} bars back (stored rows end at the carried row):
                -- one index probe per changed bar (a join would read the whole stored table)
                left join lateral (
                    select stored.running_close
                    from {{ this }} as stored
                    where
                        stored.symbol = changed_bars.symbol
                        and stored.bar_number = changed_bars.bar_number - {{ p }}
                        and stored.bar_number <= changed_bars.state_bar_number
                    -- noqa: AM09 - (symbol, bar_number) is unique; keeps it a probe, not a join
                    limit 1  -- noqa: AM09
                ) as lagged_{{ p }} on true
            {% endfor %}

        ),

        recomputed_symbols as (

            select symbol from restarts
            except
            select symbol from continuing

        ),

    {% elif symbols %}

        bucket as (

            select unnest({{ symbols }}) as symbol

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
            {{ indicator_no_carried_state(engine) }},
            false as is_look_back
        {% if is_incremental() %}
            from recomputed_symbols
            {{ per_symbol_rows(bars, 'recomputed_symbols') }} as bars
        {% elif symbols %}
            from bucket
            {{ per_symbol_rows(bars, 'bucket') }} as bars
        {% else %}
            from {{ bars }} as bars
        {% endif %}

    ),

    indicator_input as (

        select * from whole_series
        {% if is_incremental() %}
            union all
            select * from look_back_rows
            union all
            select * from changed_rows
        {% endif %}

    ),

    computed as (

        {{ technical_indicators('indicator_input', carried=is_incremental(), engine=engine) }}

    ),

    final as (

        select * from computed

    )

    select * from final
{% endcall %}
