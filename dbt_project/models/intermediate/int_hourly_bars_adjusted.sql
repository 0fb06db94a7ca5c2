{#-
  Hourly bars (Yahoo, the one intraday source) split-adjusted like the daily ones
  (macros/split_adjustment.sql): Yahoo serves them already adjusted as of the fetch, so only
  splits after both the bar's trading day and the fetch day apply.
-#}
with

hourly_bars as (

    select
        *,
        {{ split_basis_date('intraday_bars') }} as split_basis_date
    from {{ ref('stg_raw__intraday_bars') }} as intraday_bars
    where intraday_bars.data_source = 'yahoo' and intraday_bars.bar_interval = '1h'

),

split_eras as (

    select * from {{ ref('int_split_eras') }}

),

adjusted as (

    select
        hourly_bars.symbol,
        hourly_bars.bar_start,
        hourly_bars.trade_date,
        hourly_bars.exchange_timezone,
        {{ split_adjusted_bar_columns('hourly_bars') }},
        {{ split_factor() }} as split_factor,
        hourly_bars.data_source,
        hourly_bars.loaded_at
    from hourly_bars
    {{ join_split_era('hourly_bars') }}

),

final as (

    select * from adjusted

)

select * from final
