{#-
  Per source (and `all`, the unified series): the latest complete session (the newest one most
  symbols reached), the newest bar date of any symbol, and how many symbols reached it.
-#}
{{ config(materialized='view') }}

with

latest_complete as (

    select * from {{ ref('int_latest_complete_sessions') }}

),

final as (

    select
        source,
        latest_complete_session,
        latest_bar_date,
        symbols,
        symbols_reached,
        symbols_beyond

    from latest_complete

)

select * from final
