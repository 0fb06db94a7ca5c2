{#-
  Hourly bars (Yahoo, the one intraday source) split-adjusted like the daily ones. Yahoo serves
  them already adjusted as of the fetch, so only splits after both the bar's trading day and
  the fetch day apply.
-#}
with

hourly_bars as (

    select
        *,
        greatest(trade_date, (loaded_at at time zone 'America/New_York')::date)
            as split_basis_date
    from {{ ref('stg_raw__intraday_bars') }}
    where data_source = 'yahoo' and bar_interval = '1h'

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
        hourly_bars.open / coalesce(split_eras.split_factor, 1) as open,
        hourly_bars.high / coalesce(split_eras.split_factor, 1) as high,
        hourly_bars.low / coalesce(split_eras.split_factor, 1) as low,
        hourly_bars.close / coalesce(split_eras.split_factor, 1) as close,
        hourly_bars.volume * coalesce(split_eras.split_factor, 1) as volume,
        coalesce(split_eras.split_factor, 1) as split_factor,
        hourly_bars.data_source,
        hourly_bars.loaded_at
    from hourly_bars
    left join split_eras
        on split_eras.symbol = hourly_bars.symbol
        and hourly_bars.split_basis_date < split_eras.era_end
        and (split_eras.era_start is null or hourly_bars.split_basis_date >= split_eras.era_start)

),

final as (

    select * from adjusted

)

select * from final
