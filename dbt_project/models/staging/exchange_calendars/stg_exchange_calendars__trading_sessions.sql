with

source as (

    select * from {{ source('exchange_calendars', 'trading_sessions') }}

),

renamed as (

    select
        exchange,
        session_date,
        open_at,
        close_at,
        is_early_close,
        loaded_at

    from source

)

select * from renamed
