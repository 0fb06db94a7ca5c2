-- Shared raw tables for the vendor sources (Polygon, Yahoo) and for adjustment in dbt.

-- Corporate actions as events, exactly as a source reported them. A split of `split_to` new
-- shares for `split_from` old ones (Polygon's split_from/split_to; Yahoo's "4:1" is to=4,
-- from=1); a dividend is `cash_amount` per share in `currency`. Bars stay unadjusted in raw;
-- adjustment is computed in dbt from these rows.
create table if not exists raw.corporate_actions (
    source        text        not null,
    symbol        text        not null,
    action_type   text        not null check (action_type in ('split', 'dividend')),
    ex_date       date        not null,
    split_from    numeric     check (split_from > 0),
    split_to      numeric     check (split_to > 0),
    cash_amount   numeric     check (cash_amount >= 0),
    currency      text,
    details       jsonb,
    loaded_at     timestamptz not null default now(),
    load_run_id   uuid        not null,
    primary key (source, symbol, action_type, ex_date),
    check (action_type <> 'split' or (split_from is not null and split_to is not null)),
    check (action_type <> 'dividend' or cash_amount is not null)
);
comment on table raw.corporate_actions is 'Splits and dividends per source, symbol and ex-date, as reported.';

-- Intraday bars: bar_start is the bar's opening instant in UTC; the exchange's time zone is
-- kept so that trading days can be derived in dbt.
create table if not exists raw.intraday_bars (
    source             text        not null,
    symbol             text        not null,
    bar_interval       text        not null,
    bar_start          timestamptz not null,
    exchange_timezone  text,
    open               numeric     not null,
    high               numeric     not null,
    low                numeric     not null,
    close              numeric     not null,
    volume             numeric     not null,
    loaded_at          timestamptz not null default now(),
    load_run_id        uuid        not null,
    primary key (source, symbol, bar_interval, bar_start)
);
comment on table raw.intraday_bars is 'Intraday OHLCV bars (e.g. 1h) as landed, one row per source, symbol, interval and bar start.';

-- The symbol universe: what the scheduled flows fetch, and what disappeared.
create table if not exists raw.symbols (
    symbol        text        primary key,
    name          text,
    active        boolean     not null default true,
    delisted_at   date,
    source        text        not null,
    updated_at    timestamptz not null default now()
);
comment on table raw.symbols is 'The symbol universe with active flags; delisted symbols are kept and marked.';

-- Quarantine for records that are not bars (corporate actions, reference and company data):
-- the record as received, the reason, and when it was seen.
create table if not exists raw.rejected_records (
    rejected_id      bigserial   primary key,
    source           text        not null,
    record_kind      text        not null,
    symbol           text,
    payload          jsonb       not null,
    reason           text        not null,
    fingerprint      text        not null,
    load_run_id      uuid        not null,
    last_seen_run_id uuid        not null,
    rejected_at      timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    unique (source, record_kind, fingerprint)
);
comment on table raw.rejected_records is 'Quarantine for non-bar records (corporate actions, reference data), as received, with the reason.';
