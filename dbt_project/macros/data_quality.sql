{#- Formatting for the `detail` text of marts.fct_data_quality_issues (SQL expressions). -#}

{#- A ratio as a signed percentage with one decimal: 0.4 -> '+40.0 %'. -#}
{% macro quality_pct(ratio) -%}
    (to_char(({{ ratio }})::numeric * 100, 'FMSG9999999990.0') || ' %')
{%- endmacro %}

{#- A price or volume as text, rounded to `digits` decimals. -#}
{% macro quality_number(value, digits=2) -%}
    round(({{ value }})::numeric, {{ digits }})::text
{%- endmacro %}

{#- The columns every check model selects, in this order. -#}
{% macro quality_finding_columns() -%}
    check_name, severity, symbol, source, first_date, last_date, detail
{%- endmacro %}
