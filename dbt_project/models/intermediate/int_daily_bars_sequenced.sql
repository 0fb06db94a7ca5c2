{#-
  Each symbol's bars numbered in time, with the previous close and the log return: the ordered
  series every indicator is computed on (a symbol's series starts at its first landed bar).
-#}
with

daily_bars as (

    select * from {{ ref('stg_files__daily_bars') }}

),

sequenced as (

    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        data_source,
        loaded_at,
        row_number() over bars as bar_number,
        lag(close) over bars as previous_close

    from daily_bars
    window bars as (partition by symbol order by trade_date)

),

final as (

    select
        *,
        close / previous_close - 1 as simple_return,
        ln(close / previous_close) as log_return

    from sequenced

)

select * from final
