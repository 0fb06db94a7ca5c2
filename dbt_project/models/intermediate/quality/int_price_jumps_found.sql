{#-
  price_jump (error): a close-to-close move beyond var `price_jump_threshold` on the
  split-adjusted series, on a day with no split or dividend on record since the previous bar.
  A spike whose next close comes back within var `bad_print_revert_tolerance` of the close
  before it is reported once, as a bad print (the move back is not a second finding).
-#}
with

bars as (

    select
        symbol,
        trade_date,
        close
    from {{ ref('int_daily_bars_adjusted') }}

),

actions as (

    select * from {{ ref('int_corporate_actions_unioned') }}

),

neighbours as (

    select
        symbol,
        trade_date,
        close,
        lag(trade_date) over by_date as previous_date,
        lag(close) over by_date as previous_close,
        lead(trade_date) over by_date as next_date,
        lead(close) over by_date as next_close
    from bars
    window by_date as (partition by symbol order by trade_date)

),

moves as (

    select
        *,
        close / nullif(previous_close, 0) - 1 as move,
        next_close / nullif(previous_close, 0) - 1 as move_after_next
    from neighbours

),

large_moves as (

    select
        moves.*,
        exists(
            select 1 from actions
            where actions.symbol = moves.symbol
                and actions.ex_date > moves.previous_date
                and actions.ex_date <= moves.trade_date
        ) as has_action
    from moves
    where abs(moves.move) > {{ var('price_jump_threshold') }}

),

classified as (

    select
        *,
        not has_action as is_jump,
        not has_action
        and abs(move_after_next) <= {{ var('bad_print_revert_tolerance') }} as is_bad_print
    from large_moves

),

flagged as (

    select
        *,
        coalesce(
            lag(is_bad_print) over by_date and lag(next_date) over by_date = trade_date, false
        ) as reverts_bad_print
    from classified
    window by_date as (partition by symbol order by trade_date)

),

final as (

    select
        'price_jump' as check_name,
        'error' as severity,
        symbol,
        null::text as source,
        trade_date as first_date,
        trade_date as last_date,
        case
            when is_bad_print
                then format(
                        'bad print: close %s vs previous %s (%s): %s, back to %s on %s (%s vs %s);'
                        ' no split or dividend on record',
                        {{ quality_number('close') }}, {{ quality_number('previous_close') }},
                        previous_date,
                        {{ quality_pct('move') }},
                        {{ quality_number('next_close') }},
                        next_date, {{ quality_pct('move_after_next') }}, previous_date
                    )
            else format(
                    'close %s vs previous %s (%s): %s, no split or dividend on record',
                    {{ quality_number('close') }}, {{ quality_number('previous_close') }},
                    previous_date, {{ quality_pct('move') }}
                )
        end as detail
    from flagged
    where is_jump and not reverts_bad_print

)

select * from final
