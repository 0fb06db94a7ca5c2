{#-
  source_disagreement (error): a source's split-adjusted close that differs from the chosen
  bar's (int_daily_bars_adjusted) by more than var `source_tolerance`; `source` is the
  source that disagrees with the chosen one.
-#}
with

source_bars as (

    select * from {{ ref('int_daily_bars_by_source') }}

),

chosen as (

    select
        symbol,
        trade_date,
        close,
        data_source
    from {{ ref('int_daily_bars_adjusted') }}

),

compared as (

    select
        source_bars.symbol,
        source_bars.trade_date,
        source_bars.data_source,
        source_bars.close,
        chosen.data_source as chosen_source,
        chosen.close as chosen_close,
        source_bars.close / nullif(chosen.close, 0) - 1 as difference
    from source_bars
    inner join chosen
        on source_bars.symbol = chosen.symbol
        and source_bars.trade_date = chosen.trade_date
        and source_bars.data_source <> chosen.data_source

),

final as (

    select
        'source_disagreement' as check_name,
        'error' as severity,
        symbol,
        data_source as source,
        trade_date as first_date,
        trade_date as last_date,
        format(
            'close %s (%s) vs %s (%s, chosen): %s, tolerance %s',
            {{ quality_number('close', 4) }}, data_source,
            {{ quality_number('chosen_close', 4) }}, chosen_source,
            {{ quality_pct('difference') }}, {{ quality_pct(var('source_tolerance')) }}
        ) as detail
    from compared
    where abs(difference) > {{ var('source_tolerance') }}

)

select * from final
