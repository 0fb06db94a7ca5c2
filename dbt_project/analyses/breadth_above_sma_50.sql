-- Market breadth without sectors: share of symbols closing above their 50-day SMA, per day.
select
    trade_date,
    count(*) filter (where sma_50 is not null) as symbols,
    avg((close > sma_50)::int) filter (where sma_50 is not null) as share_above_sma_50
from {{ ref('fct_daily_indicators') }}
group by trade_date
order by trade_date
