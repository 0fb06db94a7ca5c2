-- The quarantine keeps one row per distinct bad record, with how often it occurred (issue 20):
-- before, every repeat of a bad line was a row of its own (fingerprint `<md5>:<n>`), so a file
-- of 1,000,000 identical rows added 999,999 rows (369 MB) and a rerun 265 MB more.
--
-- The fingerprint is now md5 of the record's values and reason as a row (a NULL and an empty
-- field stay distinct); existing rows are folded into one per fingerprint, their count kept.

alter table raw.rejected_bars add column if not exists occurrences bigint not null default 1;
alter table raw.rejected_records add column if not exists occurrences bigint not null default 1;
alter table archive.rejected_bars add column if not exists occurrences bigint not null default 1;
alter table archive.rejected_records add column if not exists occurrences bigint not null default 1;
comment on column raw.rejected_bars.occurrences is
    'How many times this bad line occurred in the latest input that had it.';
comment on column raw.rejected_records.occurrences is
    'How many times this bad record occurred in the latest input that had it.';

create temporary table _refingerprinted on commit drop as
select
    rejected_id,
    md5(row(symbol, trade_date, open, high, low, close, volume, reason)::text) as fingerprint,
    count(*) over same as copies,
    row_number() over (same order by rejected_id) as nth
from raw.rejected_bars
window same as (
    partition by source, md5(row(symbol, trade_date, open, high, low, close, volume, reason)::text)
);
delete from raw.rejected_bars as r
using _refingerprinted as f
where r.rejected_id = f.rejected_id and f.nth > 1;
update raw.rejected_bars as r
set fingerprint = f.fingerprint, occurrences = f.copies
from _refingerprinted as f
where r.rejected_id = f.rejected_id;
drop table _refingerprinted;

create temporary table _refingerprinted on commit drop as
select
    rejected_id,
    md5(jsonb_build_array(payload, reason)::text) as fingerprint,
    count(*) over same as copies,
    row_number() over (same order by rejected_id) as nth
from raw.rejected_records
window same as (
    partition by source, record_kind, md5(jsonb_build_array(payload, reason)::text)
);
delete from raw.rejected_records as r
using _refingerprinted as f
where r.rejected_id = f.rejected_id and f.nth > 1;
update raw.rejected_records as r
set fingerprint = f.fingerprint, occurrences = f.copies
from _refingerprinted as f
where r.rejected_id = f.rejected_id;
drop table _refingerprinted;
