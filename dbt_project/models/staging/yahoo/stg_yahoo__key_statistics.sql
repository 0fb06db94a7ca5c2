with

snapshots as (

    select * from {{ ref('base_yahoo__company_data') }}
    where dataset = 'key_statistics'

),

renamed as (

    select
        symbol,
        as_of_date,
        payload #>> '{summaryDetail,currency}' as currency,
        payload #>> '{financialData,financialCurrency}' as financial_currency,
        {{ yahoo_number("payload #> '{summaryDetail,marketCap}'") }} as market_cap,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,enterpriseValue}'") }}
            as enterprise_value,
        {{ yahoo_number("payload #> '{summaryDetail,trailingPE}'") }} as trailing_pe,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,forwardPE}'") }} as forward_pe,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,priceToBook}'") }} as price_to_book,
        {{ yahoo_number("payload #> '{summaryDetail,priceToSalesTrailing12Months}'") }}
            as price_to_sales_ttm,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,enterpriseToRevenue}'") }}
            as enterprise_to_revenue,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,enterpriseToEbitda}'") }}
            as enterprise_to_ebitda,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,beta}'") }} as beta,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,trailingEps}'") }} as trailing_eps,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,forwardEps}'") }} as forward_eps,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,bookValue}'") }} as book_value_per_share,
        round({{ yahoo_number("payload #> '{defaultKeyStatistics,sharesOutstanding}'") }})::bigint
            as shares_outstanding,
        round({{ yahoo_number("payload #> '{defaultKeyStatistics,floatShares}'") }})::bigint
            as float_shares,
        round({{ yahoo_number("payload #> '{defaultKeyStatistics,sharesShort}'") }})::bigint
            as shares_short,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,shortRatio}'") }} as short_ratio,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,heldPercentInsiders}'") }}
            as held_percent_insiders,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,heldPercentInstitutions}'") }}
            as held_percent_institutions,
        {{ yahoo_number("payload #> '{defaultKeyStatistics,profitMargins}'") }} as profit_margins,
        {{ yahoo_number("payload #> '{summaryDetail,dividendRate}'") }} as dividend_rate,
        {{ yahoo_number("payload #> '{summaryDetail,dividendYield}'") }} as dividend_yield,
        {{ yahoo_number("payload #> '{summaryDetail,payoutRatio}'") }} as payout_ratio,
        {{ yahoo_number("payload #> '{summaryDetail,fiftyTwoWeekHigh}'") }} as fifty_two_week_high,
        {{ yahoo_number("payload #> '{summaryDetail,fiftyTwoWeekLow}'") }} as fifty_two_week_low,
        {{ yahoo_number("payload #> '{financialData,totalRevenue}'") }} as total_revenue,
        {{ yahoo_number("payload #> '{financialData,ebitda}'") }} as ebitda,
        {{ yahoo_number("payload #> '{financialData,totalCash}'") }} as total_cash,
        {{ yahoo_number("payload #> '{financialData,totalDebt}'") }} as total_debt,
        {{ yahoo_number("payload #> '{financialData,freeCashflow}'") }} as free_cash_flow,
        {{ yahoo_number("payload #> '{financialData,returnOnEquity}'") }} as return_on_equity,
        payload #>> '{defaultKeyStatistics,lastSplitFactor}' as last_split_factor,
        (
            to_timestamp({{ yahoo_number("payload #> '{defaultKeyStatistics,lastSplitDate}'") }})
            at time zone 'UTC'
        )::date as last_split_date,
        (
            to_timestamp(
                {{ yahoo_number("payload #> '{defaultKeyStatistics,mostRecentQuarter}'") }}
            )
            at time zone 'UTC'
        )::date as most_recent_quarter,
        fetched_at,
        loaded_at,
        load_run_id

    from snapshots

)

select * from renamed
