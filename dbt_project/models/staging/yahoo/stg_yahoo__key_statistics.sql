{#- A number as Yahoo sends it: plain, or {"raw": n, "fmt": "..."} (both occur in one answer). -#}
{%- set num -%}
case jsonb_typeof(payload #> '{@}')
            when 'number' then (payload #>> '{@}')::float8
            when 'object' then (payload #>> '{@,raw}')::float8
        end
{%- endset -%}

with

source as (

    select * from {{ source('yahoo', 'yahoo_company_data') }}
    where dataset = 'key_statistics'

),

renamed as (

    select
        symbol,
        as_of_date,
        payload #>> '{summaryDetail,currency}' as currency,
        payload #>> '{financialData,financialCurrency}' as financial_currency,
        {{ num.replace('@', 'summaryDetail,marketCap') }} as market_cap,
        {{ num.replace('@', 'defaultKeyStatistics,enterpriseValue') }} as enterprise_value,
        {{ num.replace('@', 'summaryDetail,trailingPE') }} as trailing_pe,
        {{ num.replace('@', 'defaultKeyStatistics,forwardPE') }} as forward_pe,
        {{ num.replace('@', 'defaultKeyStatistics,priceToBook') }} as price_to_book,
        {{ num.replace('@', 'summaryDetail,priceToSalesTrailing12Months') }} as price_to_sales_ttm,
        {{ num.replace('@', 'defaultKeyStatistics,enterpriseToRevenue') }}
            as enterprise_to_revenue,
        {{ num.replace('@', 'defaultKeyStatistics,enterpriseToEbitda') }} as enterprise_to_ebitda,
        {{ num.replace('@', 'defaultKeyStatistics,beta') }} as beta,
        {{ num.replace('@', 'defaultKeyStatistics,trailingEps') }} as trailing_eps,
        {{ num.replace('@', 'defaultKeyStatistics,forwardEps') }} as forward_eps,
        {{ num.replace('@', 'defaultKeyStatistics,bookValue') }} as book_value_per_share,
        round({{ num.replace('@', 'defaultKeyStatistics,sharesOutstanding') }})::bigint
            as shares_outstanding,
        round({{ num.replace('@', 'defaultKeyStatistics,floatShares') }})::bigint as float_shares,
        round({{ num.replace('@', 'defaultKeyStatistics,sharesShort') }})::bigint as shares_short,
        {{ num.replace('@', 'defaultKeyStatistics,shortRatio') }} as short_ratio,
        {{ num.replace('@', 'defaultKeyStatistics,heldPercentInsiders') }}
            as held_percent_insiders,
        {{ num.replace('@', 'defaultKeyStatistics,heldPercentInstitutions') }}
            as held_percent_institutions,
        {{ num.replace('@', 'defaultKeyStatistics,profitMargins') }} as profit_margins,
        {{ num.replace('@', 'summaryDetail,dividendRate') }} as dividend_rate,
        {{ num.replace('@', 'summaryDetail,dividendYield') }} as dividend_yield,
        {{ num.replace('@', 'summaryDetail,payoutRatio') }} as payout_ratio,
        {{ num.replace('@', 'summaryDetail,fiftyTwoWeekHigh') }} as fifty_two_week_high,
        {{ num.replace('@', 'summaryDetail,fiftyTwoWeekLow') }} as fifty_two_week_low,
        {{ num.replace('@', 'financialData,totalRevenue') }} as total_revenue,
        {{ num.replace('@', 'financialData,ebitda') }} as ebitda,
        {{ num.replace('@', 'financialData,totalCash') }} as total_cash,
        {{ num.replace('@', 'financialData,totalDebt') }} as total_debt,
        {{ num.replace('@', 'financialData,freeCashflow') }} as free_cash_flow,
        {{ num.replace('@', 'financialData,returnOnEquity') }} as return_on_equity,
        payload #>> '{defaultKeyStatistics,lastSplitFactor}' as last_split_factor,
        (to_timestamp({{ num.replace('@', 'defaultKeyStatistics,lastSplitDate') }})
            at time zone 'UTC')::date as last_split_date,
        (to_timestamp({{ num.replace('@', 'defaultKeyStatistics,mostRecentQuarter') }})
            at time zone 'UTC')::date as most_recent_quarter,
        fetched_at,
        loaded_at,
        load_run_id

    from source

)

select * from renamed
