{#-
  A number as Yahoo sends it in JSON: plain (12.5) or wrapped ({"raw": 12.5, "fmt": "12.50"});
  both occur in one answer, and {} means "no value". `value` is a jsonb expression.
-#}
{% macro yahoo_number(value) -%}
    case jsonb_typeof({{ value }})
        when 'number' then ({{ value }} #>> '{}')::float8
        when 'object' then ({{ value }} ->> 'raw')::float8
    end
{%- endmacro %}
