with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'financial_statements'

),

periods as (

    -- one row per statement period: each module holds a list of periods
    select
        snapshots.symbol,
        snapshots.as_of_date,
        modules.statement,
        modules.period_type,
        period,
        snapshots.fetched_at,
        snapshots.loaded_at,
        snapshots.load_run_id

    from snapshots
    cross join (values
        ('incomeStatementHistory', 'incomeStatementHistory', 'income', 'annual'),
        ('incomeStatementHistoryQuarterly', 'incomeStatementHistory', 'income', 'quarterly'),
        ('balanceSheetHistory', 'balanceSheetStatements', 'balance_sheet', 'annual'),
        ('balanceSheetHistoryQuarterly', 'balanceSheetStatements', 'balance_sheet', 'quarterly'),
        ('cashflowStatementHistory', 'cashflowStatements', 'cash_flow', 'annual'),
        ('cashflowStatementHistoryQuarterly', 'cashflowStatements', 'cash_flow', 'quarterly')
    ) as modules (module, list_key, statement, period_type)
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(snapshots.payload #> array[modules.module, modules.list_key]) = 'array'
            then snapshots.payload #> array[modules.module, modules.list_key]
            else '[]'::jsonb end
    ) as periods (period)
    where jsonb_typeof(period) = 'object'

),

line_items as (

    -- one row per line item of a period (endDate names the period, maxAge is cache metadata)
    select
        periods.*,
        items.key as line_item,
        items.value as item_value

    from periods
    cross join lateral jsonb_each(periods.period) as items (key, value)
    where items.key not in ('maxAge', 'endDate')

),

renamed as (

    select
        symbol,
        as_of_date,
        statement,
        period_type,
        (to_timestamp({{ yahoo_number("(period -> 'endDate')") }})
            at time zone 'UTC')::date as period_end_date,
        line_item,
        {{ yahoo_number("item_value") }} as value,
        fetched_at,
        loaded_at,
        load_run_id

    from line_items

)

select * from renamed
