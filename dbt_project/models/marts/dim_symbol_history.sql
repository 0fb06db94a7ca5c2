{#-
  Who each symbol was, and since when: one row per symbol and version of its slowly changing
  attributes (name, exchange, asset type, currency, sector, industry, country, listing date,
  active flag, delisting date, each with its source), collapsed from the change points of
  int_symbol_attributes_resolved. A version holds from valid_from to the day before valid_to;
  the current one has valid_to 9999-12-31. A symbol's first version starts on its first bar: the
  vendors' first observations reach back to it (observed_on says when a version's values were
  reported; a delisting holds from its own date), and a symbol with bars but no reference data
  has one version of nulls, so that every bar finds exactly one version: join on the symbol and
  `trade_date >= valid_from and trade_date < valid_to`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_all',
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['symbol', 'valid_from'], 'unique': True}],
    )
}}

{%- set attributes = ['security_name', 'exchange_mic', 'asset_type', 'currency', 'sector',
                      'industry', 'country', 'listed_on', 'is_active'] -%}

with

change_points as (

    select
        *,
        md5(row(
            {%- for a in attributes %}
                {{ a }}, {{ a }}_source,
            {%- endfor %}
            delisted_on
        )::text) as fingerprint
    from {{ ref('int_symbol_attributes_resolved') }}

),

flagged as (

    select
        *,
        coalesce(fingerprint <> lag(fingerprint) over by_day, true) as starts_version
    from change_points
    window by_day as (partition by symbol order by changed_on)

),

versions as (

    select
        *,
        lead(changed_on) over by_day as next_changed_on
    from flagged
    where starts_version
    window by_day as (partition by symbol order by changed_on)

),

final as (

    select
        symbol,
        changed_on as valid_from,
        coalesce(next_changed_on, date '9999-12-31') as valid_to,
        next_changed_on is null as is_current,
        observed_on,
        security_name,
        exchange_mic,
        asset_type,
        currency,
        sector,
        industry,
        country,
        listed_on,
        is_active,
        delisted_on,
        security_name_source as name_source,
        exchange_mic_source as exchange_source,
        asset_type_source,
        currency_source,
        sector_source,
        industry_source,
        country_source,
        listed_on_source,
        is_active_source as status_source
    from versions

)

select * from final
