{#-
  One row per round trip: a strategy's position in one symbol and side, from the session it was
  entered (executed) to the session it was left, with its prices, size, returns, P&L, costs,
  holding period and excursions (definitions in _strategies__models.yml). A position still held
  at the last session is a trade with exit_reason 'open', marked at its last close.
  Incremental: the trades that touch the sessions of int_strategy_positions_simulated rebuilt
  since the last run (the open ones, and those after) are recomputed from their entry.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ strategy_mart_delete('stored.is_open or stored.exit_date >= restarts.restart_date or stored.entry_date >= restarts.restart_date', ref('fct_strategy_positions')) }}",
        indexes=[{'columns': ['strategy', 'symbol', 'side', 'entry_date'], 'unique': True},
                 {'columns': ['symbol']}],
    )
}}

with

restarts as (

    {{ strategy_restarts(this if is_incremental() else none, ref('fct_strategy_positions')) }}

),

legs as (

    -- per strategy, symbol and side with rows from the restart on: where to read from (the
    -- entry of the trade still open at the restart, if any)
    select
        positions.strategy,
        positions.symbol,
        positions.side,
        restarts.restart_date,
        least(restarts.restart_date, coalesce(open_at_restart.entry_date, restarts.restart_date)) as read_from
    from {{ ref('fct_strategy_positions') }} as positions
    inner join restarts
        on positions.strategy = restarts.strategy and positions.trade_date >= restarts.restart_date
    left join lateral (
        select last_entry.trade_date as entry_date
        from {{ ref('fct_strategy_positions') }} as last_entry
        where last_entry.strategy = positions.strategy
            and last_entry.symbol = positions.symbol
            and last_entry.side = positions.side
            and last_entry.entry
            and last_entry.trade_date < restarts.restart_date
            and not exists (
                select 1
                from {{ ref('fct_strategy_positions') }} as left_trade
                where left_trade.strategy = last_entry.strategy
                    and left_trade.symbol = last_entry.symbol
                    and left_trade.side = last_entry.side
                    and left_trade.exit
                    and left_trade.trade_date >= last_entry.trade_date
                    and left_trade.trade_date < restarts.restart_date
            )
        order by last_entry.trade_date desc
        limit 1
    ) as open_at_restart on true
    where positions.symbol <> '$CASH' and restarts.restart_date > '-infinity'::date
    group by positions.strategy, positions.symbol, positions.side, restarts.restart_date, open_at_restart.entry_date

),

rows_read as (

    select positions.*
    from {{ ref('fct_strategy_positions') }} as positions
    inner join restarts on positions.strategy = restarts.strategy
    left join legs
        on positions.strategy = legs.strategy
        and positions.symbol = legs.symbol
        and positions.side = legs.side
    where positions.symbol <> '$CASH'
        and positions.trade_date >= coalesce(legs.read_from, restarts.restart_date)

),

numbered as (

    -- a trade: the rows from an entry up to the next exit, while the position is held
    select
        *,
        sum(entry::integer) over (
            partition by strategy, symbol, side order by trade_date rows unbounded preceding
        ) as trade_number
    from rows_read

),

trade_rows as (

    select *
    from numbered
    where trade_number > 0
        and (overnight_weight <> 0 or intraday_weight <> 0 or weight <> 0)

),

trades as (

    select
        strategy,
        symbol,
        side,
        trade_number,
        min(execution) as execution,
        min(trade_date) as entry_date,
        min(trade_date) filter (where exit) as exit_date,
        min(exit_reason) filter (where exit) as exit_reason,
        (array_agg(
            case when execution = 'next_open' then open else close end order by trade_date
        ))[1] as entry_price,
        (array_agg(
            case when execution = 'next_open' then open else close end * dividend_factor order by trade_date
        ))[1] as entry_price_adjusted,
        (array_agg(
            case when execution = 'next_open' then equity_at_open else equity_at_close end
            * abs(case when execution = 'next_open' then intraday_weight else weight end)
            order by trade_date
        ))[1] as entry_value,
        (array_agg(
            case when exit_reason = 'signal' and execution = 'next_open' then open else close end
        ) filter (where exit))[1] as exit_price,
        (array_agg(
            case when exit_reason = 'signal' and execution = 'next_open' then open else close end * dividend_factor
        ) filter (where exit))[1] as exit_price_adjusted,
        (array_agg(close order by trade_date desc) filter (where has_bar))[1] as last_close,
        (array_agg(close * dividend_factor order by trade_date desc) filter (where has_bar))[1]
            as last_close_adjusted,
        max(trade_date) filter (where has_bar) as last_bar_date,
        count(*) filter (where intraday_weight <> 0) as holding_sessions,
        min(low * dividend_factor) filter (where intraday_weight <> 0 and has_bar) as lowest_adjusted,
        max(high * dividend_factor) filter (where intraday_weight <> 0 and has_bar) as highest_adjusted,
        sum(gross_pnl order by trade_date) as gross_pnl,
        sum(costs order by trade_date) as costs
    from trade_rows
    group by strategy, symbol, side, trade_number

),

priced as (

    select
        *,
        case when side = 'short' then -1 else 1 end as direction,
        exit_date is null as is_open,
        coalesce(exit_price_adjusted, last_close_adjusted) as final_price_adjusted
    from trades

),

final as (

    select
        strategy,
        symbol,
        side,
        entry_date,
        entry_price,
        coalesce(exit_date, last_bar_date) as exit_date,
        coalesce(exit_price, last_close) as exit_price,
        coalesce(exit_reason, 'open') as exit_reason,
        is_open,
        entry_value / entry_price as shares,
        entry_value,
        direction * (final_price_adjusted / entry_price_adjusted - 1) as gross_return,
        direction * (final_price_adjusted / entry_price_adjusted - 1) - costs / entry_value as net_return,
        gross_pnl,
        costs,
        gross_pnl - costs as net_pnl,
        holding_sessions,
        least(
            0,
            direction * (final_price_adjusted / entry_price_adjusted - 1),
            case
                when direction = 1 then lowest_adjusted / entry_price_adjusted - 1
                else -(highest_adjusted / entry_price_adjusted - 1)
            end
        ) as max_adverse_excursion,
        greatest(
            0,
            direction * (final_price_adjusted / entry_price_adjusted - 1),
            case
                when direction = 1 then highest_adjusted / entry_price_adjusted - 1
                else -(lowest_adjusted / entry_price_adjusted - 1)
            end
        ) as max_favourable_excursion,
        execution,
        '{{ run_started_at.isoformat() }}'::timestamptz as positions_built_at
    from priced

)

select * from final
