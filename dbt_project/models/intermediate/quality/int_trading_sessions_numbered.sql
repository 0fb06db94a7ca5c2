{#- The sessions of the validation calendar (var `calendar_exchange`, XNYS), numbered in order. -#}
with

sessions as (

    select * from {{ ref('stg_exchange_calendars__trading_sessions') }}
    where exchange = '{{ var("calendar_exchange") }}'

),

final as (

    select
        session_date,
        open_at,
        close_at,
        is_early_close,
        row_number() over (order by session_date) as session_number

    from sessions

)

select * from final
