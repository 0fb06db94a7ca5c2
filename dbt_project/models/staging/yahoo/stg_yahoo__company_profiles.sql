with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'company_profile'

),

renamed as (

    select
        symbol,
        as_of_date,
        payload #>> '{quoteType,longName}' as long_name,
        payload #>> '{quoteType,shortName}' as short_name,
        payload #>> '{quoteType,quoteType}' as quote_type,
        payload #>> '{quoteType,exchange}' as exchange,
        payload #>> '{quoteType,timeZoneFullName}' as exchange_timezone,
        (
            to_timestamp({{ yahoo_number("payload #> '{quoteType,firstTradeDateEpochUtc}'") }})
            at time zone 'UTC'
        )::date as first_trade_date,
        payload #>> '{assetProfile,sector}' as sector,
        payload #>> '{assetProfile,industry}' as industry,
        payload #>> '{assetProfile,country}' as country,
        payload #>> '{assetProfile,state}' as state,
        payload #>> '{assetProfile,city}' as city,
        payload #>> '{assetProfile,website}' as website,
        round({{ yahoo_number("payload #> '{assetProfile,fullTimeEmployees}'") }})::bigint
            as full_time_employees,
        payload #>> '{assetProfile,longBusinessSummary}' as business_summary,
        fetched_at,
        loaded_at,
        load_run_id

    from snapshots

)

select * from renamed
