{#-
  One event per symbol, type and ex-date from all sources, by precedence: Polygon, Yahoo,
  files.
-#}
with

actions as (

    select
        *,
        case data_source
            when 'polygon' then 1
            when 'yahoo' then 2
            when 'files' then 3
        end as source_rank
    from {{ ref('stg_raw__corporate_actions') }}
    where data_source in ('polygon', 'yahoo', 'files')

),

ranked as (

    select distinct on (symbol, action_type, ex_date) *
    from actions
    order by symbol asc, action_type asc, ex_date asc, source_rank asc

),

final as (

    select
        symbol,
        action_type,
        ex_date,
        split_ratio,
        cash_amount,
        currency,
        data_source,
        loaded_at

    from ranked

)

select * from final
