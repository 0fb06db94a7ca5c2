with

source as (

    select * from {{ source('files', 'daily_bars') }}
    where source = 'files'

),

renamed as (

    select
        symbol,
        trade_date,
        open::float8 as open,
        high::float8 as high,
        low::float8 as low,
        close::float8 as close,
        round(volume)::bigint as volume,
        source as data_source,
        loaded_at,
        load_run_id

    from source

)

select * from renamed
