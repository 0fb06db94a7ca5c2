{#- The value from bar `first_bar` on (1-based), null in the warm-up rows before it. -#}
{% macro null_before_bar(expression, first_bar) -%}
    case when bar_number >= {{ first_bar }} then {{ expression }} end
{%- endmacro %}
