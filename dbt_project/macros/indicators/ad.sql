{% macro indicator_ad() %}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'ad', first_bar=1, value='ad',
            talib={'function': 'AD', 'inputs': ['high', 'low', 'close', 'volume'], 'parameters': {}},
            description='Chaikin accumulation/distribution line (0 added on a bar without range).')],
        parts=[indicator_ad_part()],
        arguments={},
        notes='a bar without range adds 0')) }}
{% endmacro %}

{% macro indicator_ad_part() %}
    {#- talib.AD: the running sum of the close location value times volume, 0 on a bar without
        range; `ad` -#}
    {%- set step -%}
        case when high_f - low_f > 0
            then (((close_f - low_f) - (high_f - close_f)) / (high_f - low_f)) * volume_f
            else 0::float8
        end
    {%- endset -%}
    {{ return(indicator_declaration(terms={'ad_step': step}, running_sums={'ad': 'ad_step'})) }}
{% endmacro %}
