-- The raw layer: what vendors and files gave us, as received (typed), plus the record of every load.
create schema if not exists raw;

create table if not exists raw.load_runs (
    load_run_id     uuid        not null,
    source          text        not null,
    symbol          text        not null,
    window_start    date,
    window_end      date,
    rows_received   integer     not null default 0,
    rows_inserted   integer     not null default 0,
    rows_updated    integer     not null default 0,
    rows_unchanged  integer     not null default 0,
    rows_rejected   integer     not null default 0,
    status          text        not null check (status in ('running', 'success', 'partial', 'failed')),
    error           text,
    source_uri      text,
    flow_run_id     text,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    primary key (load_run_id, source, symbol)
);
comment on table raw.load_runs is 'One row per symbol per load run: window, row counts, status and error text.';

create table if not exists raw.daily_bars (
    source       text        not null,
    symbol       text        not null,
    trade_date   date        not null,
    open         numeric     not null,
    high         numeric     not null,
    low          numeric     not null,
    close        numeric     not null,
    volume       numeric     not null,
    loaded_at    timestamptz not null default now(),
    load_run_id  uuid        not null,
    primary key (source, symbol, trade_date)
);
comment on table raw.daily_bars is 'Daily OHLCV bars as landed, one row per source, symbol and trading day.';

create table if not exists raw.rejected_bars (
    rejected_id      bigserial   primary key,
    source           text        not null,
    load_run_id      uuid        not null,
    last_seen_run_id uuid        not null,
    source_uri       text,
    source_line      integer,
    symbol           text,
    trade_date       text,
    open             text,
    high             text,
    low              text,
    close            text,
    volume           text,
    reason           text        not null,
    fingerprint      text        not null,
    rejected_at      timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    unique (source, fingerprint)
);
comment on table raw.rejected_bars is 'Quarantine: every row that failed landing checks, exactly as received, with the reason.';
