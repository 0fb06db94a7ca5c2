{#- Rows where the expression is false (null counts as passing, as in dbt_utils). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
