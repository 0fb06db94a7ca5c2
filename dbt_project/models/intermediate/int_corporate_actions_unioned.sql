{#- One event per symbol, type and ex-date from all sources, by precedence: Polygon, Yahoo, files. -#}
with

polygon_actions as (

    select *, 1 as source_rank from {{ ref('stg_polygon__corporate_actions') }}

),

yahoo_actions as (

    select *, 2 as source_rank from {{ ref('stg_yahoo__corporate_actions') }}

),

file_actions as (

    select *, 3 as source_rank from {{ ref('stg_files__corporate_actions') }}

),

unioned as (

    select * from polygon_actions
    union all
    select * from yahoo_actions
    union all
    select * from file_actions

),

ranked as (

    select distinct on (symbol, action_type, ex_date) *
    from unioned
    order by symbol, action_type, ex_date, source_rank

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
