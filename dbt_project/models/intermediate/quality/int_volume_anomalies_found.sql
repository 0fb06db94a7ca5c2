{#-
  zero_volume (warn): a bar with zero volume. volume_spike (warn): split-adjusted volume above
  var `volume_spike_ratio` times the median of the symbol's previous var `volume_spike_window`
  bars (only once that many bars exist, and when the median is positive).
-#}
{%- set window = var('volume_spike_window') -%}
with

bars as (

    select
        symbol,
        trade_date,
        volume::float8 as volume,
        row_number() over (partition by symbol order by trade_date) as bar_number
    from {{ ref('int_daily_bars_adjusted') }}

),

trailing_windows as (

    select
        *,
        count(*) over previous_bars as trailing_bars,
        min(volume) over previous_bars as trailing_min
    from bars
    window previous_bars as (
        partition by symbol order by trade_date
        rows between {{ window }} preceding and 1 preceding
    )

),

-- The median is at least the minimum: only bars above ratio x the trailing minimum can be
-- spikes, so the exact median is computed for those alone.
candidates as (

    select * from trailing_windows
    where trailing_bars = {{ window }}
        and volume > 0
        and volume > {{ var('volume_spike_ratio') }} * trailing_min

),

medians as (

    select
        candidates.symbol,
        candidates.trade_date,
        candidates.volume,
        percentile_cont(0.5) within group (order by previous.volume) as trailing_median
    from candidates
    inner join bars as previous
        on candidates.symbol = previous.symbol
        and previous.bar_number between candidates.bar_number - {{ window }}
        and candidates.bar_number - 1
    group by candidates.symbol, candidates.trade_date, candidates.volume

),

zero_volume as (

    select
        'zero_volume' as check_name,
        'warn' as severity,
        symbol,
        null::text as source,
        trade_date as first_date,
        trade_date as last_date,
        'volume 0 on a session with a bar' as detail
    from bars
    where volume = 0

),

spikes as (

    select
        'volume_spike' as check_name,
        'warn' as severity,
        symbol,
        null::text as source,
        trade_date as first_date,
        trade_date as last_date,
        format(
            'volume %s is %s x the trailing {{ window }}-session median %s (threshold %s x)',
            {{ quality_number('volume', 0) }},
            {{ quality_number('volume / trailing_median', 1) }},
            {{ quality_number('trailing_median', 0) }},
            {{ var('volume_spike_ratio') }}
        ) as detail
    from medians
    where trailing_median > 0 and volume > {{ var('volume_spike_ratio') }} * trailing_median

),

final as (

    select * from zero_volume
    union all
    select * from spikes

)

select * from final
