with

source as (

    select * from {{ source('raw', 'daily_bars') }}

),

renamed as (

    select
        symbol,
        trade_date,
        open::numeric as open,
        high::numeric as high,
        low::numeric as low,
        close::numeric as close,
        volume::numeric as volume,
        source as data_source,
        loaded_at,
        load_run_id

    from source

)

select * from renamed
