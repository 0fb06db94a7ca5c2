{#-
  One row per data-quality finding, from the check models (int_*_found), each marked
  `acknowledged` when a row of the known_data_issues seed covers it: same check, same symbol
  (or a seed row without symbol: every symbol) and the finding's dates within the seed row's.
  Rebuilt whole on every run: findings come and go with the data.
-#}
with

findings as (

    {%- for check in [
        'int_missing_sessions_found',
        'int_stale_symbols_found',
        'int_price_jumps_found',
        'int_volume_anomalies_found',
        'int_non_session_bars_found',
        'int_source_disagreements_found',
        'int_late_data_found',
    ] %}
        select {{ quality_finding_columns() }} from {{ ref(check) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

known_issues as (

    select * from {{ ref('known_data_issues') }}

),

acknowledged as (

    select
        findings.*,
        (
            select known_issues.reason
            from known_issues
            where known_issues.check_name = findings.check_name
                and (known_issues.symbol is null or known_issues.symbol = findings.symbol)
                and (
                    known_issues.first_date is null
                    or findings.first_date >= known_issues.first_date
                )
                and (known_issues.last_date is null or findings.last_date <= known_issues.last_date)
            order by known_issues.symbol asc nulls last, known_issues.first_date desc nulls last
            limit 1
        ) as acknowledged_reason
    from findings

),

final as (

    select
        md5(concat_ws(
            '|', check_name, coalesce(symbol, '*'), coalesce(source, '*'), first_date
        )) as finding_id,
        check_name,
        severity,
        symbol,
        source,
        first_date,
        last_date,
        detail,
        acknowledged_reason is not null as acknowledged,
        acknowledged_reason

    from acknowledged

)

select * from final
