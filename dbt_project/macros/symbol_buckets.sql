{#-
  A per-symbol model's statement split over the database server's cores.

  PostgreSQL runs window functions in one process (no parallel plan has a WindowAgg below its
  Gather), so a model made of window passes over every symbol uses one core however many the
  server has. Its symbols are independent, though: split into buckets, each bucket is the same
  statement over fewer symbols, and PostgreSQL runs the branches of a UNION ALL in parallel
  workers (Parallel Append). A branch must be parallel safe, and the engine's statement is not
  (it reads a materialised CTE twice), so each bucket runs inside a PL/pgSQL function that
  executes the statement in the worker: the function is the model's own SQL over a symbol array,
  created in the model's transaction (dropped with it, replaced on the next run).

  Use in a model as a call block; the body is the model's SQL for the symbols `symbols` (an SQL
  array expression, or none for every symbol):

      {% call(symbols) over_symbol_buckets(ref('upstream'), indicator_result_columns()) %}
          ... where {{ 'symbol = any(' ~ symbols ~ ')' if symbols else 'true' }} ...
      {% endcall %}

  The body then runs once over every symbol, or once per bucket in parallel; per symbol the
  statements are the same, so the rows are identical either way. On an incremental run with
  nothing new it does not run at all (incremental_has_restarts): the result is the stored
  columns, no rows. Buckets: the symbols with
  something to compute (all on a full build, those with new bars on an incremental run), dealt
  out by bar count so that the buckets weigh about the same. How many: var('indicator_build_workers')
  when set (1: one statement), else the server's processors (/proc/cpuinfo, readable by a
  superuser or pg_read_server_files; else its max_parallel_workers); one statement below
  var('indicator_split_min_symbols') symbols. The model drops the function after its statement
  (a post-hook), so that the warehouse keeps no copy of the SQL.
-#}

{% macro over_symbol_buckets(relation, columns, events=none) -%}
    {%- if not incremental_has_restarts(relation, events=events) -%}
        -- nothing landed since the last run: the stored columns, no rows (the model's statement
        -- is not even planned)
        select * from {{ this }} where false
    {%- else -%}
    {%- set buckets = symbol_buckets(relation, events) if execute and flags.WHICH in ['run', 'build'] else [] -%}
    {%- if buckets | length < 2 -%}
        {{ caller(none) }}
    {%- else -%}
        {%- set function = this.schema ~ '.' ~ this.identifier ~ '__bucket' -%}
        {%- set create -%}
            create or replace function {{ function }}(bucket_symbols text[])
            returns table (
                {%- for name, type, _ in columns %}
                {{ name }} {{ type }}{{ "," if not loop.last }}
                {%- endfor %}
            )
            language plpgsql stable parallel safe cost 1000000000 rows 1000000 as $body$
            #variable_conflict use_column
            begin
                return query {{ caller('bucket_symbols') }}
                ;
            end
            $body$;
            -- one worker per bucket, the leader only gathers (and writes); a branch is one symbol set
            set local max_parallel_workers_per_gather = {{ buckets | length }};
            set local parallel_leader_participation = off;
            set local parallel_setup_cost = 0;
            set local parallel_tuple_cost = 0
        {%- endset -%}
        {%- do run_query(create) -%}
        {%- for symbols in buckets %}
        select * from {{ function }}(array[
            {%- for symbol in symbols -%}'{{ symbol | replace("'", "''") }}'{{ "," if not loop.last }}{%- endfor -%}
        ]::text[])
        {{- "\nunion all" if not loop.last }}
        {%- endfor %}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro symbol_buckets(relation, events=none) %}
    {#- the symbols to compute, dealt into buckets of about equal bars: [[symbol, ...], ...] -#}
    {%- set workers = var('indicator_build_workers', none) or symbol_bucket_count() -%}
    {%- if workers | int < 2 -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        with

        weights as (
            {%- if is_incremental() %}
            select symbol, count(*) as bars
            from ({{ incremental_changed_bars(relation, this, events) }}) as changed
            group by symbol
            {%- else %}
            select symbol, count(*) as bars from {{ relation }} group by symbol
            {%- endif %}
        ),

        -- largest first, dealt back and forth over the buckets (0, 1, .., n-1, n-1, .., 0, 0, ..)
        dealt as (
            select
                symbol,
                row_number() over (order by bars desc, symbol) - 1 as position
            from weights
        )

        select
            case when (position / {{ workers }}) % 2 = 0 then position % {{ workers }}
                else {{ workers }} - 1 - position % {{ workers }} end as bucket,
            json_agg(symbol order by symbol)::text as symbols
        from dealt
        group by 1
        order by 1
    {%- endset -%}
    {%- set buckets = [] -%}
    {%- set symbols = namespace(count=0) -%}
    {%- for row in run_query(query).rows -%}
        {%- do buckets.append(fromjson(row[1])) -%}
        {%- set symbols.count = symbols.count + (buckets[-1] | length) -%}
    {%- endfor -%}
    {{ return(buckets if symbols.count >= var('indicator_split_min_symbols', 64) else []) }}
{% endmacro %}

{% macro symbol_bucket_count() %}
    {#- the database server's processors, when the role may read server files; else the parallel
        workers it allows -#}
    {%- set query -%}
        select coalesce(
            case when pg_has_role(current_user, 'pg_read_server_files', 'member') then (
                select nullif(count(*), 0)
                from regexp_split_to_table(pg_read_file('/proc/cpuinfo', true), '\n') as line
                where line like 'processor%'
            ) end,
            current_setting('max_parallel_workers')::int
        )
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] | int) }}
{% endmacro %}
