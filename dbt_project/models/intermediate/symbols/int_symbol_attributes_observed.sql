{#-
  Who a symbol is, as each feed said it on each day it said so: one row per symbol, feed and
  observation day. Attributes a feed does not give are null; `source_label` is the source name
  the symbol marts show.
    polygon_tickers     Polygon's listing (snapshot_polygon_tickers, market `stocks`): name,
                        exchange, type, currency; observed when the record was first landed;
                        per symbol and day its active listing, else its latest delisted one
    symbol_status       raw.symbols (snapshot_reference_symbols), kept by the reference flows:
                        active flag and delisting date; a delisting is observed on its
                        delisting date (and a version seen later but effective earlier is
                        superseded by it)
    yahoo_profile       Yahoo's company profile and key statistics of the day: name, exchange,
                        type, currency, sector, industry, country, first trade date, shares
                        outstanding and market cap
  Only what the vendors' flows land: a symbol no reference flow has covered has no row here.
-#}
with

polygon_versions as (

    select
        *,
        (dbt_valid_from at time zone 'UTC')::date as observed_on
    from {{ ref('snapshot_polygon_tickers') }}
    where market = 'stocks'

),

polygon as (

    select distinct on (symbol, observed_on)
        symbol,
        'polygon_tickers' as feed,
        'polygon_reference' as source_label,
        observed_on,
        symbol_name as security_name,
        exchange_mic,
        {{ symbol_asset_type('ticker_type') }} as asset_type,
        currency,
        null::text as sector,
        null::text as industry,
        null::text as country,
        null::date as listed_on,
        null::boolean as is_active,
        null::date as delisted_on,
        null::float8 as shares_outstanding,
        null::float8 as market_cap
    from polygon_versions
    order by
        symbol asc, observed_on asc, is_active desc, delisted_at desc nulls last,
        dbt_valid_from desc

),

status_versions as (

    select
        *,
        case
            when is_active then (dbt_valid_from at time zone 'UTC')::date
            else coalesce(delisted_at, (dbt_valid_from at time zone 'UTC')::date)
        end as effective_on
    from {{ ref('snapshot_reference_symbols') }}

),

status_effective as (

    -- a later version takes effect no later than its own date: a delisting reported after a
    -- version seen later than the delisting date supersedes that version
    select
        *,
        min(effective_on) over later_versions as observed_on
    from status_versions
    window later_versions as (
        partition by symbol order by dbt_valid_from desc
        rows between unbounded preceding and current row
    )

),

symbol_status as (

    select distinct on (symbol, observed_on)
        symbol,
        'symbol_status' as feed,
        data_source || '_reference' as source_label,
        observed_on,
        null::text as security_name,
        null::text as exchange_mic,
        null::text as asset_type,
        null::text as currency,
        null::text as sector,
        null::text as industry,
        null::text as country,
        null::date as listed_on,
        is_active,
        case when not is_active then delisted_at end as delisted_on,
        null::float8 as shares_outstanding,
        null::float8 as market_cap
    from status_effective
    order by symbol asc, observed_on asc, dbt_valid_from desc

),

profiles as (

    select * from {{ ref('stg_yahoo__company_profiles') }}

),

key_statistics as (

    select * from {{ ref('stg_yahoo__key_statistics') }}

),

yahoo as (

    select
        coalesce(profiles.symbol, key_statistics.symbol) as symbol,
        'yahoo_profile' as feed,
        'yahoo_profile' as source_label,
        coalesce(profiles.as_of_date, key_statistics.as_of_date) as observed_on,
        nullif(coalesce(profiles.long_name, profiles.short_name), '') as security_name,
        {{ yahoo_exchange_mic('profiles.exchange') }} as exchange_mic,
        {{ symbol_asset_type('profiles.quote_type') }} as asset_type,
        upper(key_statistics.currency) as currency,
        nullif(profiles.sector, '') as sector,
        nullif(profiles.industry, '') as industry,
        nullif(profiles.country, '') as country,
        profiles.first_trade_date as listed_on,
        null::boolean as is_active,
        null::date as delisted_on,
        key_statistics.shares_outstanding::float8 as shares_outstanding,
        key_statistics.market_cap::float8 as market_cap
    from profiles
    full outer join key_statistics
        on profiles.symbol = key_statistics.symbol
        and profiles.as_of_date = key_statistics.as_of_date

),

final as (

    select * from polygon
    union all
    select * from symbol_status
    union all
    select * from yahoo

)

select * from final
