with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'institutional_holders'

),

holders as (

    -- one row per holder, in Yahoo's order (largest first)
    select
        snapshots.symbol,
        snapshots.as_of_date,
        holders.holder,
        holders.holder_rank,
        snapshots.fetched_at,
        snapshots.loaded_at,
        snapshots.load_run_id

    from snapshots
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(snapshots.payload #> '{institutionOwnership,ownershipList}') = 'array'
                then snapshots.payload #> '{institutionOwnership,ownershipList}'
            else '[]'::jsonb
        end
    ) with ordinality as holders (holder, holder_rank)

),

renamed as (

    select
        symbol,
        as_of_date,
        holder_rank::integer as holder_rank,
        holder ->> 'organization' as holder_name,
        (to_timestamp({{ yahoo_number("holder -> 'reportDate'") }}) at time zone 'UTC')::date
            as report_date,
        {{ yahoo_number("holder -> 'pctHeld'") }} as pct_held,
        round({{ yahoo_number("holder -> 'position'") }})::bigint as shares,
        {{ yahoo_number("holder -> 'value'") }} as market_value,
        {{ yahoo_number("holder -> 'pctChange'") }} as pct_change,
        fetched_at,
        loaded_at,
        load_run_id

    from holders

)

select * from renamed
