{#-
  One row per symbol and trading day: split-adjusted OHLCV (the basis of the newest bar), the
  bar as landed, the adjustment factors, a total-return close, and one-day returns.
  Incremental like fct_daily_indicators: per symbol from the first changed bar.
-#}
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

-- depends_on: {{ ref('int_corporate_actions_unioned') }} (the restart points of an increment)
with

adjusted_bars as (

    select * from {{ ref('int_daily_bars_adjusted') }}

),

{% if is_incremental() %}

{{ incremental_restart_scaffold(ref('int_daily_bars_adjusted'),
                                {'state_close': 'stored.raw_close / stored.split_factor'},
                                events=ref('int_corporate_actions_unioned')) }}

    changed_bars as (

        select
            bars.*,
            last_stored.state_bar_number,
            last_stored.state_close
        from last_stored
        {{ per_symbol_rows('adjusted_bars', 'last_stored', since='last_stored.restart_date') }}
            as bars

    ),

{% else %}

    changed_bars as (

        select
            adjusted_bars.*,
            0::bigint as state_bar_number,
            null::numeric as state_close
        from adjusted_bars

    ),

{% endif %}

sequenced as (

    select
        *,
        state_bar_number + row_number() over by_date as bar_number,
        coalesce(lag(close) over by_date, state_close) as previous_close
    from changed_bars
    window by_date as (partition by symbol order by trade_date)

),

final as (

    select
        symbol,
        trade_date,
        open::float8 as open,
        high::float8 as high,
        low::float8 as low,
        close::float8 as close,
        volume::float8 as volume,
        raw_open,
        raw_high,
        raw_low,
        raw_close,
        raw_volume,
        split_factor,
        dividend_factor,
        total_return_close,
        bar_number,
        previous_close::float8 as previous_close,
        (close / previous_close - 1)::float8 as simple_return,
        ln((close / previous_close)::float8) as log_return,
        data_source,
        loaded_at,
        source_loaded_at

    from sequenced

)

select * from final
