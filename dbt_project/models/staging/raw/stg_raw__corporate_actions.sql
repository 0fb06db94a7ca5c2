with

source as (

    select * from {{ source('raw', 'corporate_actions') }}

),

renamed as (

    select
        symbol,
        action_type,
        ex_date,
        split_from::numeric as split_from,
        split_to::numeric as split_to,
        case
            when action_type = 'split' then split_to::numeric / split_from::numeric
        end as split_ratio,
        cash_amount::float8 as cash_amount,
        currency,
        source as data_source,
        loaded_at

    from source

)

select * from renamed
