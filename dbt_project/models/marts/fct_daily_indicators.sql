{#- The indicators analysts query; computed (and kept incrementally) in
    int_daily_indicators_computed. -#}
{{ config(materialized='view') }}

with

computed as (

    select * from {{ ref('int_daily_indicators_computed') }}

),

final as (

    select
        symbol,
        trade_date,
        bar_number,
        close,
    {%- for c in indicator_columns() %}
        {{ c }}{{ "," if not loop.last }}
    {%- endfor %}

    from computed

)

select * from final
