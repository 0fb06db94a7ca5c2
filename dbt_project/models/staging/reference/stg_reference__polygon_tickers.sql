with

source as (

    select * from {{ source('reference', 'polygon_tickers') }}

),

renamed as (

    select
        market,
        ticker as symbol,
        listing_key,
        name as symbol_name,
        type as ticker_type,
        active as is_active,
        primary_exchange as exchange_mic,
        cik,
        composite_figi,
        share_class_figi,
        upper(currency_name) as currency,
        delisted_at,
        last_updated_utc as last_updated_at,
        loaded_at,
        load_run_id

    from source

)

select * from renamed
