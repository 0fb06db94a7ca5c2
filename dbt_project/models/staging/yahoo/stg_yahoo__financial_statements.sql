with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'financial_statements'

),

statement_lists as (

    -- each statement module of a snapshot holds a list of periods (at module.list_key)
    select
        snapshots.symbol,
        snapshots.as_of_date,
        modules.statement,
        modules.period_type,
        case
            when jsonb_typeof(snapshots.payload #> modules.list_path) = 'array'
                then snapshots.payload #> modules.list_path
            else '[]'::jsonb
        end as period_list,
        snapshots.fetched_at,
        snapshots.loaded_at,
        snapshots.load_run_id

    from snapshots
    cross join (
        values
        ('{incomeStatementHistory,incomeStatementHistory}'::text[], 'income', 'annual'),
        ('{incomeStatementHistoryQuarterly,incomeStatementHistory}', 'income', 'quarterly'),
        ('{balanceSheetHistory,balanceSheetStatements}', 'balance_sheet', 'annual'),
        ('{balanceSheetHistoryQuarterly,balanceSheetStatements}', 'balance_sheet', 'quarterly'),
        ('{cashflowStatementHistory,cashflowStatements}', 'cash_flow', 'annual'),
        ('{cashflowStatementHistoryQuarterly,cashflowStatements}', 'cash_flow', 'quarterly')
    ) as modules (list_path, statement, period_type)

),

periods as (

    -- one row per statement period
    select
        statement_lists.symbol,
        statement_lists.as_of_date,
        statement_lists.statement,
        statement_lists.period_type,
        elements.period,
        statement_lists.fetched_at,
        statement_lists.loaded_at,
        statement_lists.load_run_id

    from statement_lists
    cross join lateral jsonb_array_elements(statement_lists.period_list) as elements (period)
    where jsonb_typeof(elements.period) = 'object'

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
        (
            to_timestamp({{ yahoo_number("(period -> 'endDate')") }})
            at time zone 'UTC'
        )::date as period_end_date,
        line_item,
        {{ yahoo_number("item_value") }} as value,
        fetched_at,
        loaded_at,
        load_run_id

    from line_items

)

select * from renamed
