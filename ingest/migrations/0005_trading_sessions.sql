-- The exchange trading calendar (XNYS from exchange_calendars), landed by ingest/sessions.py:
-- one row per exchange and session, open/close in UTC. The validation models compare bars with it.
create table if not exists raw.trading_sessions (
    exchange        text        not null,
    session_date    date        not null,
    open_at         timestamptz not null,
    close_at        timestamptz not null,
    is_early_close  boolean     not null,
    loaded_at       timestamptz not null default now(),
    load_run_id     uuid        not null,
    primary key (exchange, session_date),
    check (close_at > open_at)
);
comment on table raw.trading_sessions is 'Exchange sessions (open/close in UTC, early-close flag) from exchange_calendars; refreshed by the pipeline.';
