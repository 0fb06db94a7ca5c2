{#-
  Who each symbol was from each day some feed observed it (a change point): every attribute from
  the first feed in its precedence that has observed the symbol (that feed's latest observation
  so far counts whole: an attribute it left empty falls to the next feed), with the feed as the
  attribute's source.
    name, exchange_mic, asset_type, currency   Polygon > Yahoo
    sector, industry, country, listed_on       Yahoo
    is_active, delisted_on                     raw.symbols (the universe the reference flows keep)
  Polygon's and Yahoo's first observation of a symbol also holds before it, back to the symbol's
  first bar (the reference flows start when first run while the bars reach years back, and a
  delisted symbol's bars end before any flow saw it); a status does not: a delisting holds from
  its own date, and before the first status report the status is unknown (null). Each symbol
  with bars has a change point on its first bar (all nulls for a symbol no feed has observed);
  observed_on is the day of the newest observation a change point uses. Change points where
  nothing changes are collapsed in dim_symbol_history.
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

first_observations as (

    select
        symbol,
        min(observed_on) as first_observed_on
    from observations
    group by symbol

),

observation_days as (

    select
        symbol,
        observed_on,
        bool_or(feed = 'polygon_tickers') as from_polygon,
        bool_or(feed = 'yahoo_profile') as from_yahoo,
        bool_or(feed = 'symbol_status') as from_status
    from observations
    group by symbol, observed_on
    union all
    select
        landed_symbols.symbol,
        landed_symbols.first_bar as observed_on,
        false as from_polygon,
        false as from_yahoo,
        false as from_status
    from landed_symbols
    left join first_observations on landed_symbols.symbol = first_observations.symbol
    where
        first_observations.first_observed_on is null
        or landed_symbols.first_bar < first_observations.first_observed_on

),

latest_observations as (

    -- per change point, the day of each feed's observation it takes: the latest so far, else
    -- (Polygon, Yahoo) the feed's first one
    select
        symbol,
        observed_on as changed_on,
        coalesce(
            max(observed_on) filter (where from_polygon) over so_far,
            min(observed_on) filter (where from_polygon) over whole_symbol
        ) as polygon_on,
        coalesce(
            max(observed_on) filter (where from_yahoo) over so_far,
            min(observed_on) filter (where from_yahoo) over whole_symbol
        ) as yahoo_on,
        max(observed_on) filter (where from_status) over so_far as status_on
    from observation_days
    window
        so_far as (partition by symbol order by observed_on),
        whole_symbol as (partition by symbol)

),

resolved as (

    select
        latest_observations.symbol,
        latest_observations.changed_on,
        coalesce(
            greatest(
                latest_observations.polygon_on,
                latest_observations.yahoo_on,
                latest_observations.status_on
            ),
            latest_observations.changed_on
        ) as observed_on,
        landed_symbols.first_bar,
        {{ attribute_by_precedence('security_name', ['polygon_feed', 'yahoo_feed']) }},
        {{ attribute_by_precedence('exchange_mic', ['polygon_feed', 'yahoo_feed']) }},
        {{ attribute_by_precedence('asset_type', ['polygon_feed', 'yahoo_feed']) }},
        {{ attribute_by_precedence('currency', ['polygon_feed', 'yahoo_feed']) }},
        {{ attribute_by_precedence('sector', ['yahoo_feed']) }},
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
    left join observations as status_feed
        on latest_observations.symbol = status_feed.symbol
        and latest_observations.status_on = status_feed.observed_on
        and status_feed.feed = 'symbol_status'

),

final as (

    select * from resolved

)

select * from final
