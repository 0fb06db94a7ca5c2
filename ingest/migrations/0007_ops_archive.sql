-- Operational history moved out of raw by maintenance/nightly (retention): same columns as the
-- raw tables plus when they were archived. Market data is never archived here.
create schema if not exists archive;

create table if not exists archive.load_runs (like raw.load_runs);
alter table archive.load_runs add column if not exists archived_at timestamptz not null default now();
comment on table archive.load_runs is 'raw.load_runs rows older than the retention age, moved here by maintenance/nightly.';

create table if not exists archive.rejected_bars (like raw.rejected_bars);
alter table archive.rejected_bars add column if not exists archived_at timestamptz not null default now();
comment on table archive.rejected_bars is 'raw.rejected_bars rows older than the retention age, moved here by maintenance/nightly.';

create table if not exists archive.rejected_records (like raw.rejected_records);
alter table archive.rejected_records add column if not exists archived_at timestamptz not null default now();
comment on table archive.rejected_records is 'raw.rejected_records rows older than the retention age, moved here by maintenance/nightly.';
