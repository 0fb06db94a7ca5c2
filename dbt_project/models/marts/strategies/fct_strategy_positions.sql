{#-
  The strategies' positions: one row per strategy, session, symbol and side (long, short, and
  the cash row: symbol '$CASH', side cash) while the strategy holds the position or has decided
  to: the weights, the value and shares they amount to, the entry and exit executions, and the
  row's P&L and costs (which add up to the session's in fct_strategy_returns). A view over
  int_strategy_positions_simulated and the equity of fct_strategy_returns.
-#}
{{ config(materialized='view') }}

with

positions as (

    select * from {{ ref('int_strategy_positions_simulated') }}

),

returns as (

    select * from {{ ref('fct_strategy_returns') }}

),

valued as (

    select
        positions.strategy,
        positions.trade_date,
        positions.symbol,
        positions.side,
        positions.target as decided,
        positions.overnight_weight,
        positions.intraday_weight,
        positions.weight,
        positions.weight * returns.equity as market_value,
        positions.weight * returns.equity / positions.close as shares,
        positions.entry,
        positions.exit,
        positions.exit_reason,
        positions.has_bar,
        positions.bar_number,
        positions.open,
        positions.high,
        positions.low,
        positions.close,
        positions.dividend_factor,
        positions.overnight_return,
        positions.intraday_return,
        positions.close_return,
        returns.previous_equity * positions.overnight_weight
        * case when returns.execution = 'next_open' then positions.overnight_return else positions.close_return end
        + case
            when returns.execution = 'next_open'
                then returns.equity_after_open * positions.intraday_weight * positions.intraday_return
            else 0
        end as gross_pnl,
        case when positions.symbol = '$CASH' then 0 else
            returns.cost_bps / 10000 * abs(positions.intraday_weight - positions.overnight_weight)
            * returns.equity_at_open
            + case when positions.intraday_weight <> positions.overnight_weight then returns.cost_per_trade else 0 end
            + returns.cost_bps / 10000 * abs(positions.weight - positions.intraday_weight)
            * returns.equity_at_close
            + case when positions.weight <> positions.intraday_weight then returns.cost_per_trade else 0 end
        end as costs,
        returns.execution,
        returns.previous_equity,
        returns.equity_at_open,
        returns.equity_after_open,
        returns.equity_at_close,
        returns.equity,
        positions.built_at
    from positions
    inner join returns
        on positions.strategy = returns.strategy and positions.trade_date = returns.trade_date

),

final as (

    select
        *,
        gross_pnl - costs as net_pnl
    from valued

)

select * from final
