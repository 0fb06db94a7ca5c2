{#-
  Views, replaced only when their definition changes.

  dbt's own view materialization replaces a view on every run: it creates the new view, renames
  the old one away and drops it with `cascade`. That drop also takes every view built on it that
  is not in the run (an analyst's own view over a mart, a view a narrower `--select` left out)
  and it takes an exclusive lock on every view at every scheduled run.

  Here each view has a row in a small registry table, `meta.view_definitions` (schema `meta`,
  `<name>_meta` in the dev target; created by the first view a run builds): the view's oid, the
  md5 of its compiled SQL and the md5 of its documentation. A run whose compiled SQL has the
  recorded fingerprint of the existing view (same oid) leaves the view as it is (one catalogue
  query); if only its documentation changed, it rewrites the comments (persist_docs) and nothing
  else. A new or changed definition, a view some cascade dropped (its oid is gone), a view made
  again outside dbt (another oid), or `--full-refresh` goes through dbt's own materialization,
  then records the new fingerprints. The view's comment is its description (persist_docs), no
  longer the marker; a view built before the registry, whose comment is still the marker
  ('dbt definition <md5>'), is adopted on its first run when its SQL is unchanged.

  Limits: the fingerprint covers the SQL only. A `select *` over a table whose columns changed
  keeps its old columns until its SQL changes or a `--full-refresh` (the models name their
  columns). A database restored from a backup has new oids: each view is replaced once.
-#}
{% macro view_registry() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('meta', none) | trim,
        identifier='view_definitions',
        type='table')) }}
{%- endmacro %}

{% macro view_documentation_md5(model) -%}
    {#- what persist_docs writes for the model: its description and its columns' -#}
    {%- set columns = {} -%}
    {%- for name, column in documented_columns(model).items() -%}
        {%- do columns.update({name: column['description']}) -%}
    {%- endfor -%}
    {%- set persisted = {
        'relation': model.description if config.persist_relation_docs() else none,
        'columns': columns if config.persist_column_docs() else none,
    } -%}
    {{ return(local_md5(tojson(persisted, sort_keys=true))) }}
{%- endmacro %}

{% macro record_view_definition(relation, definition_md5, documentation_md5) -%}
    {%- set registry = view_registry() -%}
    insert into {{ registry }} as registry
        (schema_name, view_name, view_oid, definition_md5, documentation_md5, recorded_at)
    values (
        {{ dbt.string_literal(relation.schema) }},
        {{ dbt.string_literal(relation.identifier) }},
        to_regclass({{ dbt.string_literal(relation.include(database=false).render()) }})::oid,
        {{ dbt.string_literal(definition_md5) }},
        {{ dbt.string_literal(documentation_md5) }},
        now()
    )
    on conflict (schema_name, view_name) do update set
        view_oid = excluded.view_oid,
        definition_md5 = excluded.definition_md5,
        documentation_md5 = excluded.documentation_md5,
        recorded_at = excluded.recorded_at
{%- endmacro %}

{% materialization view, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set registry = view_registry() -%}
    {%- set definition_md5 = local_md5(sql) -%}
    {%- set documentation_md5 = view_documentation_md5(model) -%}

    {%- call statement('registry') -%}
        do $registry$ begin
            if to_regclass({{ dbt.string_literal(registry.include(database=false).render()) }}) is null then
                create schema if not exists {{ adapter.quote(registry.schema) }};
                create table {{ registry.include(database=false) }} (
                    schema_name text not null,
                    view_name text not null,
                    view_oid oid not null,
                    definition_md5 text not null,
                    documentation_md5 text not null,
                    recorded_at timestamptz not null,
                    primary key (schema_name, view_name)
                );
                comment on table {{ registry.include(database=false) }} is 'The dbt views, with the'
                    ' fingerprints of the definition and documentation each was built from'
                    ' (dbt_project/macros/view_materialization.sql)';
            end if;
        exception
            -- another thread or run created it first
            when unique_violation or duplicate_schema or duplicate_table then null;
        end $registry$
    {%- endcall -%}

    {%- call statement('main', fetch_result=True) -%}
        select registry.definition_md5, registry.documentation_md5
        from {{ registry }} as registry
        inner join pg_catalog.pg_class as relation on registry.view_oid = relation.oid
        inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
        where registry.schema_name = {{ dbt.string_literal(target_relation.schema) }}
            and registry.view_name = {{ dbt.string_literal(target_relation.identifier) }}
            and namespace.nspname = registry.schema_name
            and relation.relname = registry.view_name
            and relation.relkind = 'v'
        union all
        -- a view built before the registry: its fingerprint is its comment (adopted once)
        select substr(obj_description(relation.oid, 'pg_class'), 16), null
        from pg_catalog.pg_class as relation
        inner join pg_catalog.pg_namespace as namespace on relation.relnamespace = namespace.oid
        where namespace.nspname = {{ dbt.string_literal(target_relation.schema) }}
            and relation.relname = {{ dbt.string_literal(target_relation.identifier) }}
            and relation.relkind = 'v'
            and obj_description(relation.oid, 'pg_class') like 'dbt definition %'
            and not exists (
                select 1 from {{ registry }} as registry
                where registry.schema_name = namespace.nspname
                    and registry.view_name = relation.relname
            )
    {%- endcall -%}
    {%- set recorded = load_result('main')['data'] -%}

    {%- if recorded and recorded[0][0] == definition_md5 and not should_full_refresh() -%}
        {%- if recorded[0][1] != documentation_md5 -%}
            {%- do persist_docs(target_relation, model) -%}
            {%- call statement('fingerprint') -%}
                {{ record_view_definition(target_relation, definition_md5, documentation_md5) }}
            {%- endcall -%}
        {%- endif -%}
        {%- do adapter.commit() -%}
        {{ return({'relations': [target_relation]}) }}
    {%- endif -%}

    {%- set relations = context['materialization_view_default']() -%}
    {%- call statement('fingerprint') -%}
        {{ record_view_definition(target_relation, definition_md5, documentation_md5) }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return(relations) }}
{% endmaterialization %}
