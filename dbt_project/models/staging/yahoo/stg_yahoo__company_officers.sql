with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'company_officers'

),

officers as (

    -- one row per officer, in Yahoo's order
    select
        snapshots.symbol,
        snapshots.as_of_date,
        officers.officer,
        officers.officer_rank,
        snapshots.fetched_at,
        snapshots.loaded_at,
        snapshots.load_run_id

    from snapshots
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(snapshots.payload -> 'companyOfficers') = 'array'
                then snapshots.payload -> 'companyOfficers'
            else '[]'::jsonb
        end
    ) with ordinality as officers (officer, officer_rank)

),

renamed as (

    select
        symbol,
        as_of_date,
        officer_rank::integer as officer_rank,
        officer ->> 'name' as officer_name,
        officer ->> 'title' as title,
        round({{ yahoo_number("officer -> 'age'") }})::integer as age,
        round({{ yahoo_number("officer -> 'yearBorn'") }})::integer as year_born,
        round({{ yahoo_number("officer -> 'fiscalYear'") }})::integer as fiscal_year,
        {{ yahoo_number("officer -> 'totalPay'") }} as total_pay,
        {{ yahoo_number("officer -> 'exercisedValue'") }} as exercised_value,
        {{ yahoo_number("officer -> 'unexercisedValue'") }} as unexercised_value,
        fetched_at,
        loaded_at,
        load_run_id

    from officers

)

select * from renamed
