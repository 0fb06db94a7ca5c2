{#-
  Documentation inside the database (persist_docs, on for every mart in dbt_project.yml): the
  model's description on the relation and one comment per column, so `\d+ marts.<model>` in
  psql, DBeaver or Metabase shows what dbt docs shows.

  One addition to dbt's own macro: a column without a description of its own takes the one of
  the same-named column of a model it reads (its direct parents, in the order of their refs),
  so a column passed through keeps its meaning without a second copy of the text - e.g. every
  indicator column of marts.fct_daily_analytics carries fct_daily_indicators' description, for
  indicator families added later too.
-#}
{% macro documented_columns(model) -%}
    {%- set columns = {} -%}
    {%- for parent_id in model.depends_on.nodes -%}
        {%- set parent = graph.nodes.get(parent_id) -%}
        {%- if parent is not none -%}
            {%- for name, column in parent.columns.items()
                if column.description and name not in columns -%}
                {%- do columns.update({name: {
                    'name': name, 'description': column.description, 'quote': column.quote}}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, column in model.columns.items() if column.description -%}
        {%- do columns.update({name: column}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do run_query(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() -%}
        {%- set columns = documented_columns(model) -%}
        {%- if columns -%}
            {#- postgres__alter_column_comment comments the columns the relation has -#}
            {%- set comments = alter_column_comment(relation, columns) -%}
            {%- if comments | trim | length > 0 -%}
                {%- do run_query(comments) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
