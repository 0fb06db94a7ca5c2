{#-
  Incremental strategy `replace_all`: the model's rows replace the table's, in place, in one
  transaction (delete, then insert). For small marts rebuilt whole on every run (dimensions):
  unlike dbt's table materialization, which renames the old table away and drops it with
  `cascade`, the table stays the same relation, so the views analysts build on it and the grants
  on it survive every run, and readers see the old rows until the new ones are committed.
  Use with `materialized='incremental'` and no `is_incremental()` filter; a change of columns
  needs `on_schema_change` (the models say `sync_all_columns`) or a `--full-refresh`.
-#}
{% macro get_incremental_replace_all_sql(arg_dict) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ arg_dict['target_relation'] }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
