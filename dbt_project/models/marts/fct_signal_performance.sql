{#- Per signal: how often it fired and how it did - hit rates and average forward returns. -#}
{{ config(materialized='view') }}

with

outcomes as (

    select * from {{ ref('fct_signal_outcomes') }}

),

per_signal as (

    select
        signal,
        min(direction) as direction,
        count(*) as occurrences,
        count(distinct symbol) as symbols,
    {%- for h in ['1d', '5d', '20d'] %}
        count(forward_return_{{ h }}) as evaluated_{{ h }},
        avg(hit_{{ h }}::int) as hit_rate_{{ h }},
        avg(forward_return_{{ h }}) as average_return_{{ h }}{{ "," if not loop.last }}
    {%- endfor %}
    from outcomes
    group by signal

),

final as (

    select * from per_signal

)

select * from final
