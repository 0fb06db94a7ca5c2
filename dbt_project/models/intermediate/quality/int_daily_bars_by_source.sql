{#-
  Every source's daily bar (not only the one int_daily_bars_unioned keeps), with its close
  split-adjusted the way int_daily_bars_adjusted adjusts the chosen bar (macros/split_adjustment:
  Yahoo takes only splits after the day it was fetched), so sources can be compared. The only
  model of the validation checks that reads the staging layer.
-#}
with

source_bars as (

    select
        symbol,
        trade_date,
        close,
        volume,
        data_source,
        loaded_at
    from {{ ref('stg_raw__daily_bars') }}

),

split_eras as (

    select * from {{ ref('int_split_eras') }}

),

based as (

    select
        source_bars.*,
        {{ split_basis_date('source_bars') }} as split_basis_date
    from source_bars

),

final as (

    select
        based.symbol,
        based.trade_date,
        based.data_source,
        based.close / {{ split_factor() }} as close,
        based.close as raw_close,
        based.volume as raw_volume

    from based
    {{ join_split_era('based') }}

)

select * from final
