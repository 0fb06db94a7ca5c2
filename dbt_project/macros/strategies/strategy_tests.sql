{#- Generic tests over the declarations (macros/strategies/strategy_declarations.sql). -#}

{#- every value of `column_name` names a signal declared in var('signals') -#}
{% test declared_signal(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in (
        {%- for s in signal_declarations() -%}'{{ s.name }}'{{ ", " if not loop.last }}{%- endfor -%}
    )
{% endtest %}

{#- every value of `column_name` names a strategy declared in var('strategies') -#}
{% test declared_strategy(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in ({{ strategy_name_list(strategy_declarations() | map(attribute='name') | list) }})
{% endtest %}
