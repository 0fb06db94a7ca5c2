with

source as (

    select * from {{ source('raw', 'intraday_bars') }}

),

renamed as (

    select
        symbol,
        bar_start,
        bar_interval,
        exchange_timezone,
        (bar_start at time zone coalesce(exchange_timezone, 'UTC'))::date as trade_date,
        open::numeric as open,
        high::numeric as high,
        low::numeric as low,
        close::numeric as close,
        volume::numeric as volume,
        source as data_source,
        loaded_at

    from source

)

select * from renamed
