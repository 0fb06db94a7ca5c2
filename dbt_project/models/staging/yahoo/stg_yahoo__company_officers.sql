{#- A number as Yahoo sends it: plain, or {"raw": n, "fmt": "..."}. -#}
{%- set num -%}
case jsonb_typeof(officer -> '@')
            when 'number' then (officer ->> '@')::float8
            when 'object' then (officer #>> '{@,raw}')::float8
        end
{%- endset -%}

with

source as (

    select * from {{ source('yahoo', 'yahoo_company_data') }}
    where dataset = 'company_officers'

),

officers as (

    -- one row per officer, in Yahoo's order
    select
        source.symbol,
        source.as_of_date,
        officers.officer,
        officers.officer_rank,
        source.fetched_at,
        source.loaded_at,
        source.load_run_id

    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.payload -> 'companyOfficers') = 'array'
            then source.payload -> 'companyOfficers'
            else '[]'::jsonb end
    ) with ordinality as officers (officer, officer_rank)

),

renamed as (

    select
        symbol,
        as_of_date,
        officer_rank::integer as officer_rank,
        officer ->> 'name' as officer_name,
        officer ->> 'title' as title,
        round({{ num.replace('@', 'age') }})::integer as age,
        round({{ num.replace('@', 'yearBorn') }})::integer as year_born,
        round({{ num.replace('@', 'fiscalYear') }})::integer as fiscal_year,
        {{ num.replace('@', 'totalPay') }} as total_pay,
        {{ num.replace('@', 'exercisedValue') }} as exercised_value,
        {{ num.replace('@', 'unexercisedValue') }} as unexercised_value,
        fetched_at,
        loaded_at,
        load_run_id

    from officers

)

select * from renamed
