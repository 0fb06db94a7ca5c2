{#- Generic tests over the declarations (macros/strategies/strategy_declarations.sql). They read
    the declared names from the vars: the models validate the declarations, and a generic test's
    context holds only the macros it calls by name, not the indicator families the validation
    looks up by theirs (macros/indicator_registry.sql). -#}

{#- every value of `column_name` names a signal declared in var('signals') -#}
{% test declared_signal(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in (
        {%- for name in var('signals', {}) -%}'{{ name }}'{{ ", " if not loop.last }}{%- endfor -%}
    )
{% endtest %}

{#- every value of `column_name` names a strategy declared in var('strategies') -#}
{% test declared_strategy(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in ({{ strategy_name_list(var('strategies', {}) | list) }})
{% endtest %}
