{#-
  One row per strategy and session: the book's returns before and after costs, exposure,
  turnover, equity, its running peak and the drawdown from it (definitions in
  _strategies__models.yml and the README). Incremental: the sessions of
  int_strategy_positions_simulated rebuilt since the last run are recomputed from the stored
  equity of the session before them (so an appended session is computed exactly as a full run
  computes it).

  Equity follows, per session s, E(s) = E(s-1) * growth(s) + fixed(s): the book held overnight
  earns R1 to the open, the open's trades pay c * turnover (c = cost_bps / 10 000) and
  cost_per_trade per order, the book held from the open earns R2 to the close, and the close's
  trades pay their costs. For next_close strategies R1 is the close-to-close return of the book
  held overnight, and R2 = 0 (they trade only at the close).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ strategy_mart_delete('stored.trade_date >= restarts.restart_date') }}",
        indexes=[{'columns': ['strategy', 'trade_date'], 'unique': True}],
    )
}}

with

parameters as (

    {{ strategy_parameters() }}

),

restarts as (

    {{ strategy_restarts(this if is_incremental() else none) }}

),

positions as (

    select positions.*
    from {{ ref('int_strategy_positions_simulated') }} as positions
    inner join restarts
        on positions.strategy = restarts.strategy and positions.trade_date >= restarts.restart_date

),

carried as (

    -- the equity and peak of the last session kept (the capital when none)
    select
        restarts.strategy,
        restarts.restart_date,
        coalesce(kept.equity, parameters.capital) as initial_equity,
        coalesce(kept.peak_equity, parameters.capital) as initial_peak,
        coalesce(kept.session_number, 0) as initial_session_number
    from restarts
    inner join parameters on restarts.strategy = parameters.strategy
    {%- if is_incremental() %}
    left join lateral (
        select stored.equity, stored.peak_equity, stored.session_number
        from {{ this }} as stored
        where stored.strategy = restarts.strategy and stored.trade_date < restarts.restart_date
        order by stored.trade_date desc
        limit 1
    ) as kept on true
    {%- else %}
    left join (select null::float8 as equity, null::float8 as peak_equity, null::bigint as session_number) as kept on true
    {%- endif %}

),

books as (

    -- per session: the book's returns to the open and from the open, and its trading
    select
        positions.strategy,
        positions.trade_date,
        sum(
            positions.overnight_weight
            * case when parameters.next_open then positions.overnight_return else positions.close_return end
            order by positions.symbol, positions.side
        ) as return_to_open,
        case when bool_and(parameters.next_open) then
            sum(positions.intraday_weight * positions.intraday_return order by positions.symbol, positions.side)
        else 0 end as return_open_to_close,
        sum(abs(positions.intraday_weight - positions.overnight_weight) order by positions.symbol, positions.side)
            as turnover_open,
        count(*) filter (where positions.intraday_weight <> positions.overnight_weight) as orders_open,
        sum(abs(positions.weight - positions.intraday_weight) order by positions.symbol, positions.side)
            as turnover_close,
        count(*) filter (where positions.weight <> positions.intraday_weight) as orders_close,
        sum(abs(positions.weight) order by positions.symbol, positions.side) as gross_exposure,
        sum(positions.weight order by positions.symbol, positions.side) as net_exposure,
        count(*) filter (where positions.weight <> 0) as open_positions
    from positions
    inner join parameters on positions.strategy = parameters.strategy
    where positions.symbol <> '$CASH'
    group by positions.strategy, positions.trade_date

),

sessions as (

    select
        cash.strategy,
        cash.trade_date,
        cash.built_at,
        carried.initial_equity,
        carried.initial_peak,
        carried.initial_session_number
        + row_number() over (partition by cash.strategy order by cash.trade_date) as session_number,
        parameters.capital,
        parameters.cost_bps,
        parameters.cost_per_trade,
        case when parameters.next_open then 'next_open' else 'next_close' end as execution,
        parameters.cost_bps / 10000 as cost_rate,
        coalesce(books.return_to_open, 0) as return_to_open,
        coalesce(books.return_open_to_close, 0) as return_open_to_close,
        coalesce(books.turnover_open, 0) as turnover_open,
        coalesce(books.orders_open, 0) as orders_open,
        coalesce(books.turnover_close, 0) as turnover_close,
        coalesce(books.orders_close, 0) as orders_close,
        coalesce(books.gross_exposure, 0) as gross_exposure,
        coalesce(books.net_exposure, 0) as net_exposure,
        coalesce(books.open_positions, 0) as open_positions
    from positions as cash
    inner join carried on cash.strategy = carried.strategy
    inner join parameters on cash.strategy = parameters.strategy
    left join books on cash.strategy = books.strategy and cash.trade_date = books.trade_date
    where cash.symbol = '$CASH'

),

factors as (

    select
        *,
        (1 + return_to_open) * (1 - cost_rate * turnover_open) * (1 + return_open_to_close)
        * (1 - cost_rate * turnover_close) as growth,
        -(cost_per_trade * orders_open * (1 + return_open_to_close) * (1 - cost_rate * turnover_close))
        - cost_per_trade * orders_close as fixed
    from sessions

),

equity as (

    select
        *,
        udf.affine_scan(growth, fixed, initial_equity) over running as equity
    from factors
    window running as (partition by strategy order by trade_date rows unbounded preceding)

),

final as (

    select
        strategy,
        trade_date,
        session_number,
        previous_equity,
        equity,
        (1 + return_to_open) * (1 + return_open_to_close) - 1 as gross_return,
        equity / previous_equity - 1 as net_return,
        previous_equity * return_to_open + equity_after_open * return_open_to_close as gross_pnl,
        cost_rate * turnover_open * equity_at_open + cost_per_trade * orders_open
        + cost_rate * turnover_close * equity_at_close + cost_per_trade * orders_close as costs,
        equity - previous_equity as net_pnl,
        turnover_open + turnover_close as turnover,
        orders_open + orders_close as orders,
        gross_exposure,
        net_exposure,
        open_positions,
        peak_equity,
        equity / peak_equity - 1 as drawdown,
        capital,
        cost_bps,
        cost_per_trade,
        execution,
        return_to_open,
        return_open_to_close,
        turnover_open,
        turnover_close,
        orders_open,
        orders_close,
        equity_at_open,
        equity_after_open,
        equity_at_close,
        built_at as positions_built_at
    from (
        select
            *,
            coalesce(lag(equity) over by_session, initial_equity) as previous_equity,
            greatest(initial_peak, max(equity) over running) as peak_equity,
            coalesce(lag(equity) over by_session, initial_equity) * (1 + return_to_open) as equity_at_open,
            coalesce(lag(equity) over by_session, initial_equity) * (1 + return_to_open)
            * (1 - cost_rate * turnover_open) - cost_per_trade * orders_open as equity_after_open,
            (
                coalesce(lag(equity) over by_session, initial_equity) * (1 + return_to_open)
                * (1 - cost_rate * turnover_open) - cost_per_trade * orders_open
            ) * (1 + return_open_to_close) as equity_at_close
        from equity
        window
            by_session as (partition by strategy order by trade_date),
            running as (partition by strategy order by trade_date rows unbounded preceding)
    ) as valued

)

select * from final
