{#- An indicator is null exactly in its warm-up rows (bar_number < first_bar) and nowhere else. -#}
{% test null_only_in_warm_up(model, column_name, first_bar) %}
select symbol, trade_date, bar_number, {{ column_name }}
from {{ model }}
where ({{ column_name }} is null) <> (bar_number < {{ first_bar }})
{% endtest %}
