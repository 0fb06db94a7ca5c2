-- Polygon.io ticker reference records (GET /v3/reference/tickers), as received.
--
-- One row per listing: a ticker's current listing (listing_key 'active') and each of its past,
-- delisted listings (listing_key = Polygon's delisted_utc), since Polygon reuses tickers. The
-- record is kept whole as JSONB; the typed columns are the keys the flows query. raw.symbols
-- (the universe) is updated from these rows, it is not replaced by them.
create table if not exists raw.polygon_tickers (
    market            text        not null,
    ticker            text        not null,
    listing_key       text        not null,
    name              text,
    type              text,
    active            boolean     not null,
    primary_exchange  text,
    cik               text,
    composite_figi    text,
    share_class_figi  text,
    currency_name     text,
    delisted_at       date,
    last_updated_utc  timestamptz,
    record            jsonb       not null,
    loaded_at         timestamptz not null default now(),
    load_run_id       uuid        not null,
    primary key (market, ticker, listing_key)
);
comment on table raw.polygon_tickers is
    'Polygon ticker reference, one row per listing (active, or each delisted one), as received.';

create index if not exists polygon_tickers_ticker on raw.polygon_tickers (ticker);
