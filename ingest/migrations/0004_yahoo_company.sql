-- Yahoo company data: one JSONB snapshot per symbol, dataset and day, exactly as Yahoo sent it.
--
-- dataset is one of company_profile, key_statistics, financial_statements,
-- institutional_holders, company_officers (see ingest/yahoo/parse.py for the quoteSummary modules
-- each is made of). as_of_date is the UTC date of the fetch: a rerun on the same day updates the
-- row only when the payload differs (jsonb equality, key order irrelevant), so rerunning with the
-- same answer changes nothing (fetched_at, loaded_at and load_run_id stay); the next day adds a
-- new snapshot. Typed views of the payloads are the dbt staging models stg_yahoo__*.
create table if not exists raw.yahoo_company_data (
    symbol        text        not null,
    dataset       text        not null check (dataset in (
                      'company_profile', 'key_statistics', 'financial_statements',
                      'institutional_holders', 'company_officers')),
    as_of_date    date        not null,
    payload       jsonb       not null check (jsonb_typeof(payload) = 'object'),
    fetched_at    timestamptz not null,
    loaded_at     timestamptz not null default now(),
    load_run_id   uuid        not null,
    primary key (symbol, dataset, as_of_date)
);
comment on table raw.yahoo_company_data is
    'Yahoo company data (profile, key statistics, financial statements, institutional holders, officers) as received: one JSONB snapshot per symbol, dataset and UTC day.';

create index if not exists yahoo_company_data_dataset_idx
    on raw.yahoo_company_data (dataset, symbol, as_of_date);
