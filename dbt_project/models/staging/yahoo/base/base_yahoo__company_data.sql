{#-
  The one model over raw.yahoo_company_data: each stg_yahoo__<dataset> model reads its
  dataset's snapshots from here (dbt's base-model pattern) instead of from the source.
-#}
with

source as (

    select * from {{ source('yahoo', 'yahoo_company_data') }}

),

renamed as (

    select
        symbol,
        dataset,
        as_of_date,
        payload,
        fetched_at,
        loaded_at,
        load_run_id

    from source

)

select * from renamed
