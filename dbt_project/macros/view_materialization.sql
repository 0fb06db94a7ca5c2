{#-
  Views, replaced only when their definition changes.

  dbt's own view materialization replaces a view on every run: it creates the new view, renames
  the old one away and drops it with `cascade`. That drop also takes every view built on it that
  is not in the run (an analyst's own view over a mart, a view a narrower `--select` left out)
  and it takes an exclusive lock on every view at every scheduled run.

  Here each view records the md5 of its compiled SQL as its comment ('dbt definition <md5>').
  A run whose compiled SQL has the recorded fingerprint of the existing view leaves it as it is
  (one catalogue query). A new or changed definition, a view some cascade dropped, or
  `--full-refresh` goes through dbt's own materialization, then records the fingerprint.

  Limits: the fingerprint covers the SQL only. A `select *` over a table whose columns changed
  keeps its old columns until its SQL changes or a `--full-refresh` (the models name their
  columns). `persist_docs` on views would overwrite the comment (this project does not use it).
-#}
{% materialization view, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set fingerprint = 'dbt definition ' ~ local_md5(sql) -%}

    {%- call statement('main', fetch_result=True) -%}
        select count(*) as unchanged
        from pg_catalog.pg_class as relation
        inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
        where namespace.nspname = {{ dbt.string_literal(target_relation.schema) }}
            and relation.relname = {{ dbt.string_literal(target_relation.identifier) }}
            and relation.relkind = 'v'
            and obj_description(relation.oid, 'pg_class') = {{ dbt.string_literal(fingerprint) }}
    {%- endcall -%}

    {%- if load_result('main')['data'][0][0] == 1 and not should_full_refresh() -%}
        {{ return({'relations': [target_relation]}) }}
    {%- endif -%}

    {%- set relations = context['materialization_view_default']() -%}
    {%- call statement('fingerprint') -%}
        comment on view {{ target_relation }} is {{ dbt.string_literal(fingerprint) }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return(relations) }}
{% endmaterialization %}
