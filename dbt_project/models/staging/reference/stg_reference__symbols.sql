with

source as (

    select * from {{ source('reference', 'symbols') }}

),

renamed as (

    select
        symbol,
        name as symbol_name,
        active as is_active,
        delisted_at,
        source as data_source,
        updated_at

    from source

)

select * from renamed
