{#-
  One row per strategy and period (period 'all', and each calendar year): returns, risk,
  drawdown, trading statistics and, against var('strategy_benchmark'), beta, alpha,
  correlation and information ratio. Every metric's definition is in _strategies__models.yml
  (where empyrical-reloaded defines one, this is the same formula: 252 sessions a year, a risk-free
  rate of 0, sample deviations where it takes them). A table rebuilt on each run from
  fct_strategy_returns and fct_strategy_trades (small: one row per strategy and session or trade).
  Float aggregates read their rows in a fixed order, so that the same rows give the same bits.
-#}
{{ config(materialized='table') }}

{%- set benchmark = var('strategy_benchmark', none) %}

with

parameters as (

    {{ strategy_parameters() }}

),

returns as (

    select * from {{ ref('fct_strategy_returns') }}

),

trades as (

    select * from {{ ref('fct_strategy_trades') }}

),

periods as (

    -- every session in its strategy's 'all' period and in its calendar year's
    select
        returns.strategy,
        periods.period,
        periods.year,
        returns.trade_date,
        returns.net_return,
        returns.previous_equity,
        returns.equity,
        returns.gross_exposure,
        returns.net_exposure,
        returns.turnover,
        returns.costs,
        returns.capital,
        returns.cost_bps,
        returns.cost_per_trade
    from returns
    cross join lateral (
        values
            ('all', null::integer),
            (extract(year from returns.trade_date)::text, extract(year from returns.trade_date)::integer)
    ) as periods (period, year)

),

peaks as (

    -- the running peak of the period's equity, from the equity it started with
    select
        *,
        greatest(
            first_value(previous_equity) over by_session,
            max(equity) over (by_session rows unbounded preceding)
        ) as peak_equity
    from periods
    window by_session as (partition by strategy, period order by trade_date)

),

drawdowns as (

    select
        *,
        equity / peak_equity - 1 as drawdown
    from peaks

),

troughs as (

    -- the deepest drawdown of each period (its first session, when several are as deep)
    select distinct on (strategy, period)
        strategy,
        period,
        trade_date as trough_date,
        drawdown as max_drawdown,
        peak_equity as trough_peak_equity
    from drawdowns
    order by strategy, period, drawdown, trade_date

),

drawdown_dates as (

    select
        troughs.strategy,
        troughs.period,
        troughs.max_drawdown,
        troughs.trough_date,
        (
            select max(before.trade_date)
            from drawdowns as before
            where before.strategy = troughs.strategy
                and before.period = troughs.period
                and before.trade_date <= troughs.trough_date
                and before.equity = troughs.trough_peak_equity
        ) as peak_date,
        (
            select min(after.trade_date)
            from drawdowns as after
            where after.strategy = troughs.strategy
                and after.period = troughs.period
                and after.trade_date > troughs.trough_date
                and after.equity >= troughs.trough_peak_equity
        ) as recovery_date
    from troughs
    where troughs.max_drawdown < 0

),

session_metrics as (

    select
        strategy,
        period,
        min(year) as year,
        count(*) as sessions,
        min(trade_date) as first_date,
        max(trade_date) as last_date,
        (array_agg(previous_equity order by trade_date))[1] as start_equity,
        (array_agg(equity order by trade_date desc))[1] as end_equity,
        avg(net_return order by trade_date) as mean_return,
        stddev_samp(net_return order by trade_date) as return_deviation,
        sqrt(avg(power(least(net_return, 0), 2) order by trade_date)) as downside_deviation,
        count(*) filter (where net_return > 0) as winning_sessions,
        count(*) filter (where net_return <> 0) as active_sessions,
        max(net_return) as best_session,
        min(net_return) as worst_session,
        avg(gross_exposure order by trade_date) as gross_exposure,
        avg(net_exposure order by trade_date) as net_exposure,
        sum(turnover order by trade_date) as turnover,
        sum(costs order by trade_date) as costs,
        -- the parameters the sessions were computed with (a run may have built only some strategies)
        max(capital) as capital,
        max(cost_bps) as cost_bps,
        max(cost_per_trade) as cost_per_trade
    from periods
    group by strategy, period

),

trade_metrics as (

    -- trades closed in the period (open trades are counted apart)
    select
        trades.strategy,
        periods.period,
        count(*) filter (where not trades.is_open) as trades,
        count(*) filter (where trades.is_open) as open_trades,
        count(*) filter (where not trades.is_open and trades.net_pnl > 0) as winning_trades,
        sum(trades.net_pnl order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open and trades.net_pnl > 0) as gross_profit,
        -sum(trades.net_pnl order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open and trades.net_pnl < 0) as gross_loss,
        avg(trades.net_pnl order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open and trades.net_pnl > 0) as average_win,
        avg(trades.net_pnl order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open and trades.net_pnl < 0) as average_loss,
        avg(trades.net_pnl order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open) as expectancy,
        avg(trades.net_return order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open) as average_trade_return,
        avg(trades.holding_sessions order by trades.entry_date, trades.symbol, trades.side)
            filter (where not trades.is_open) as average_holding_sessions
    from trades
    cross join lateral (
        values ('all'), (extract(year from trades.exit_date)::text)
    ) as periods (period)
    group by trades.strategy, periods.period

),

relative as (

    -- against the benchmark, over the sessions both have
    {%- if benchmark %}
    select
        strategy.strategy,
        strategy.period,
        covar_pop(strategy.net_return, benchmark.net_return order by strategy.trade_date)
        / nullif(var_pop(benchmark.net_return order by strategy.trade_date), 0) as beta,
        corr(strategy.net_return, benchmark.net_return order by strategy.trade_date) as correlation,
        avg(strategy.net_return - benchmark.net_return order by strategy.trade_date) as mean_active_return,
        stddev_samp(strategy.net_return - benchmark.net_return order by strategy.trade_date) as tracking_error,
        count(*) as aligned_sessions
    from periods as strategy
    inner join periods as benchmark
        on benchmark.strategy = '{{ benchmark }}'
        and strategy.period = benchmark.period
        and strategy.trade_date = benchmark.trade_date
    group by strategy.strategy, strategy.period
    {%- else %}
    select
        null::text as strategy,
        null::text as period,
        null::float8 as beta,
        null::float8 as correlation,
        null::float8 as mean_active_return,
        null::float8 as tracking_error,
        null::bigint as aligned_sessions
    where false
    {%- endif %}

),

alphas as (

    select
        relative.strategy,
        relative.period,
        power(
            1 + avg(strategy.net_return - relative.beta * benchmark.net_return order by strategy.trade_date), 252
        ) - 1 as alpha
    from relative
    inner join periods as strategy
        on relative.strategy = strategy.strategy and relative.period = strategy.period
    inner join periods as benchmark
        on benchmark.strategy = {{ "'" ~ benchmark ~ "'" if benchmark else 'null' }}
        and strategy.period = benchmark.period
        and strategy.trade_date = benchmark.trade_date
    where relative.beta is not null
    group by relative.strategy, relative.period

),

final as (

    select
        session_metrics.strategy,
        session_metrics.period,
        session_metrics.year,
        session_metrics.first_date,
        session_metrics.last_date,
        session_metrics.sessions,
        session_metrics.start_equity,
        session_metrics.end_equity,
        session_metrics.end_equity / session_metrics.start_equity - 1 as total_return,
        case when session_metrics.end_equity > 0 then
            power(session_metrics.end_equity / session_metrics.start_equity, 252.0 / session_metrics.sessions) - 1
        end as cagr,
        session_metrics.return_deviation * sqrt(252) as annual_volatility,
        session_metrics.mean_return / nullif(session_metrics.return_deviation, 0) * sqrt(252) as sharpe_ratio,
        session_metrics.mean_return * 252
        / nullif(session_metrics.downside_deviation * sqrt(252), 0) as sortino_ratio,
        session_metrics.downside_deviation * sqrt(252) as downside_risk,
        coalesce(drawdown_dates.max_drawdown, 0) as max_drawdown,
        drawdown_dates.peak_date as max_drawdown_peak_date,
        drawdown_dates.trough_date as max_drawdown_trough_date,
        drawdown_dates.recovery_date as max_drawdown_recovery_date,
        case when session_metrics.end_equity > 0 and drawdown_dates.max_drawdown < 0 then
            (power(session_metrics.end_equity / session_metrics.start_equity, 252.0 / session_metrics.sessions) - 1)
            / abs(drawdown_dates.max_drawdown)
        end as calmar_ratio,
        session_metrics.best_session,
        session_metrics.worst_session,
        session_metrics.winning_sessions::float8 / nullif(session_metrics.active_sessions, 0)
            as session_win_rate,
        session_metrics.gross_exposure as average_gross_exposure,
        session_metrics.net_exposure as average_net_exposure,
        session_metrics.turnover / session_metrics.sessions * 252 as annual_turnover,
        session_metrics.costs,
        coalesce(trade_metrics.trades, 0) as trades,
        coalesce(trade_metrics.open_trades, 0) as open_trades,
        trade_metrics.winning_trades::float8 / nullif(trade_metrics.trades, 0) as trade_win_rate,
        trade_metrics.gross_profit / nullif(trade_metrics.gross_loss, 0) as profit_factor,
        trade_metrics.average_win,
        trade_metrics.average_loss,
        trade_metrics.expectancy,
        trade_metrics.average_trade_return,
        trade_metrics.average_holding_sessions,
        relative.beta,
        alphas.alpha,
        relative.correlation,
        relative.mean_active_return / nullif(relative.tracking_error, 0) * sqrt(252) as information_ratio,
        {{ "'" ~ benchmark ~ "'" if benchmark else 'null' }}::text as benchmark,
        session_metrics.capital,
        session_metrics.cost_bps,
        session_metrics.cost_per_trade,
        parameters.benchmark as is_benchmark,
        parameters.description
    from session_metrics
    inner join parameters on session_metrics.strategy = parameters.strategy
    left join drawdown_dates
        on session_metrics.strategy = drawdown_dates.strategy and session_metrics.period = drawdown_dates.period
    left join trade_metrics
        on session_metrics.strategy = trade_metrics.strategy and session_metrics.period = trade_metrics.period
    left join relative
        on session_metrics.strategy = relative.strategy and session_metrics.period = relative.period
    left join alphas
        on session_metrics.strategy = alphas.strategy and session_metrics.period = alphas.period

)

select * from final
