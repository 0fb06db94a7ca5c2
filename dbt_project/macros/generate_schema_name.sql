{#-
  Schemas by target:
  - `dev`: dbt's standard behaviour, `<target.schema>_<custom>` (e.g. `alice_marts`), so each
    developer builds into schemas of their own on a shared server.
  - every other target (`local`, `prod`): custom schemas as named (`marts`, not `public_marts`),
    since analysts query marts.fct_*.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name == 'dev' -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
