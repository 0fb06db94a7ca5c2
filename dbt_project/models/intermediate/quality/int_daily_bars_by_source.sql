{#-
  Every source's daily bar (not only the one int_daily_bars_unioned keeps), with its close
  split-adjusted the way int_daily_bars_adjusted adjusts the chosen bar (Yahoo: only splits
  after the day it was fetched), so sources can be compared. The only model of the validation
  checks that reads the staging models.
-#}
with

source_bars as (

    select symbol, trade_date, close, volume, data_source, loaded_at
    from {{ ref('stg_polygon__daily_bars') }}
    union all
    select symbol, trade_date, close, volume, data_source, loaded_at
    from {{ ref('stg_yahoo__daily_bars') }}
    union all
    select symbol, trade_date, close, volume, data_source, loaded_at
    from {{ ref('stg_files__daily_bars') }}

),

split_eras as (

    select * from {{ ref('int_split_eras') }}

),

based as (

    select
        *,
        case
            when data_source = 'yahoo'
                then greatest(trade_date, (loaded_at at time zone 'America/New_York')::date)
            else trade_date
        end as split_basis_date
    from source_bars

),

final as (

    select
        based.symbol,
        based.trade_date,
        based.data_source,
        based.close / coalesce(split_eras.split_factor, 1) as close,
        based.close as raw_close,
        based.volume as raw_volume

    from based
    left join split_eras
        on split_eras.symbol = based.symbol
        and based.split_basis_date < split_eras.era_end
        and (split_eras.era_start is null or based.split_basis_date >= split_eras.era_start)

)

select * from final
