{% macro indicator_obv() %}
    {%- set step -%}
        case
            when bar_number = 1 then volume_f
            when change > 0 then volume_f
            when change < 0 then -volume_f
            else 0::float8
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'obv', first_bar=1, value='obv',
            talib={'function': 'OBV', 'inputs': ['close', 'volume'], 'parameters': {}},
            description="Running signed volume, starting at the first bar's volume.")],
        parts=[indicator_change_part()],
        terms={'obv_step': step}, running_sums={'obv': 'obv_step'},
        arguments={},
        notes="starts at the first bar's volume")) }}
{% endmacro %}
