{#-
  One row per symbol with landed bars: who it is now (dim_symbol_history's current version, each
  attribute with its source), its latest shares outstanding and market cap (Yahoo, with their
  date), and its landed history (first and last bar, bar count, last close). Where no reference
  feed says, the listing date and the active flag are derived from the bars (source `bars`):
  listed on the first bar; active while the last bar is within var `stale_after_sessions`
  sessions of the latest complete session (dim_sessions).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_all',
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['symbol'], 'unique': True}],
    )
}}

with

daily_bars as (

    select * from {{ ref('fct_daily_bars') }}

),

per_symbol as (

    select
        symbol,
        min(trade_date) as first_trade_date,
        max(trade_date) as last_trade_date,
        count(*) as bar_count,
        (array_agg(close order by trade_date desc))[1] as last_close,
        max(loaded_at) as last_loaded_at

    from daily_bars
    group by symbol

),

current_versions as (

    select * from {{ ref('dim_symbol_history') }}
    where is_current

),

key_figures as (

    select distinct on (symbol)
        symbol,
        shares_outstanding,
        market_cap,
        observed_on as market_cap_as_of,
        source_label as market_cap_source
    from {{ ref('int_symbol_attributes_observed') }}
    where feed = 'yahoo_profile' and (market_cap is not null or shares_outstanding is not null)
    order by symbol asc, observed_on desc

),

sessions as (

    select * from {{ ref('int_trading_sessions_numbered') }}

),

active_since as (

    -- the oldest last bar that still counts as active (derived status)
    select sessions.session_date
    from {{ ref('int_latest_complete_sessions') }} as latest
    inner join sessions as latest_session
        on latest.latest_complete_session = latest_session.session_date
    inner join sessions
        on sessions.session_number
        = latest_session.session_number - {{ var('stale_after_sessions') }}
    where latest.source = 'all'

),

final as (

    select
        per_symbol.symbol,
        current_versions.security_name,
        current_versions.exchange_mic,
        current_versions.asset_type,
        current_versions.currency,
        current_versions.sector,
        current_versions.industry,
        current_versions.country,
        coalesce(
            current_versions.is_active,
            per_symbol.last_trade_date >= (select active_since.session_date from active_since)
        ) as is_active,
        coalesce(current_versions.listed_on, per_symbol.first_trade_date) as listed_on,
        current_versions.delisted_on,
        key_figures.shares_outstanding,
        key_figures.market_cap,
        key_figures.market_cap_as_of,
        per_symbol.first_trade_date,
        per_symbol.last_trade_date,
        per_symbol.bar_count,
        per_symbol.last_close,
        per_symbol.last_loaded_at,
        current_versions.name_source,
        current_versions.exchange_source,
        current_versions.asset_type_source,
        current_versions.currency_source,
        current_versions.sector_source,
        current_versions.industry_source,
        current_versions.country_source,
        case
            when current_versions.is_active is not null then current_versions.status_source
            when (select active_since.session_date from active_since) is not null then 'bars'
        end as status_source,
        coalesce(current_versions.listed_on_source, 'bars') as listed_on_source,
        key_figures.market_cap_source

    from per_symbol
    left join current_versions on per_symbol.symbol = current_versions.symbol
    left join key_figures on per_symbol.symbol = key_figures.symbol

)

select * from final
