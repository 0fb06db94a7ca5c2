{#-
  Who each symbol was from each day some feed observed it (a change point): every attribute from
  the first feed in its precedence that has observed the symbol by that day (that feed's latest
  observation counts whole: an attribute it left empty falls to the next feed), with the feed as
  the attribute's source.
    name                      Polygon > Yahoo > S&P 500 list
    exchange_mic              Polygon > Yahoo
    asset_type, currency      Polygon > Yahoo > S&P 500 list
    sector                    Yahoo > S&P 500 list
    industry, country, listed_on   Yahoo
    is_active, delisted_on    raw.symbols (the universe the reference flows keep)
  A symbol with bars but no observation at all gets one change point of nulls on its first bar;
  first_bar is each symbol's first landed bar (any source).
  Change points where nothing changes are collapsed in dim_symbol_history.
-#}
with

observations as (

    select * from {{ ref('int_symbol_attributes_observed') }}

),

landed_symbols as (

    select
        symbol,
        min(trade_date) as first_bar
    from {{ ref('stg_raw__daily_bars') }}
    group by symbol

),

observation_days as (

    select
        symbol,
        observed_on,
        bool_or(feed = 'polygon_tickers') as from_polygon,
        bool_or(feed = 'yahoo_profile') as from_yahoo,
        bool_or(feed = 'sp500_constituents') as from_constituents,
        bool_or(feed = 'symbol_status') as from_status
    from observations
    group by symbol, observed_on
    union all
    select
        symbol,
        first_bar as observed_on,
        false as from_polygon,
        false as from_yahoo,
        false as from_constituents,
        false as from_status
    from landed_symbols
    where symbol not in (select observations.symbol from observations)

),

latest_observations as (

    -- per change point, the day of each feed's latest observation so far
    select
        symbol,
        observed_on as changed_on,
        max(observed_on) filter (where from_polygon) over so_far as polygon_on,
        max(observed_on) filter (where from_yahoo) over so_far as yahoo_on,
        max(observed_on) filter (where from_constituents) over so_far as constituents_on,
        max(observed_on) filter (where from_status) over so_far as status_on
    from observation_days
    window so_far as (partition by symbol order by observed_on)

),

resolved as (

    select
        latest_observations.symbol,
        latest_observations.changed_on,
        landed_symbols.first_bar,
        {{ attribute_by_precedence('security_name', ['polygon_feed', 'yahoo_feed', 'list_feed']) }},
        {{ attribute_by_precedence('exchange_mic', ['polygon_feed', 'yahoo_feed']) }},
        {{ attribute_by_precedence('asset_type', ['polygon_feed', 'yahoo_feed', 'list_feed']) }},
        {{ attribute_by_precedence('currency', ['polygon_feed', 'yahoo_feed', 'list_feed']) }},
        {{ attribute_by_precedence('sector', ['yahoo_feed', 'list_feed']) }},
        {{ attribute_by_precedence('industry', ['yahoo_feed']) }},
        {{ attribute_by_precedence('country', ['yahoo_feed']) }},
        {{ attribute_by_precedence('listed_on', ['yahoo_feed']) }},
        {{ attribute_by_precedence('is_active', ['status_feed']) }},
        status_feed.delisted_on
    from latest_observations
    left join landed_symbols on latest_observations.symbol = landed_symbols.symbol
    left join observations as polygon_feed
        on latest_observations.symbol = polygon_feed.symbol
        and latest_observations.polygon_on = polygon_feed.observed_on
        and polygon_feed.feed = 'polygon_tickers'
    left join observations as yahoo_feed
        on latest_observations.symbol = yahoo_feed.symbol
        and latest_observations.yahoo_on = yahoo_feed.observed_on
        and yahoo_feed.feed = 'yahoo_profile'
    left join observations as list_feed
        on latest_observations.symbol = list_feed.symbol
        and latest_observations.constituents_on = list_feed.observed_on
        and list_feed.feed = 'sp500_constituents'
    left join observations as status_feed
        on latest_observations.symbol = status_feed.symbol
        and latest_observations.status_on = status_feed.observed_on
        and status_feed.feed = 'symbol_status'

),

final as (

    select * from resolved

)

select * from final
