with

source as (

    select * from {{ source('polygon', 'corporate_actions') }}
    where source = 'polygon'

),

renamed as (

    select
        symbol,
        action_type,
        ex_date,
        split_from::numeric as split_from,
        split_to::numeric as split_to,
        split_to::numeric / split_from::numeric as split_ratio,
        cash_amount::float8 as cash_amount,
        currency,
        source as data_source,
        loaded_at

    from source

)

select * from renamed
