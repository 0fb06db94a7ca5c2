{% macro indicator_tema(period) %}
    {%- set value -%}
        3 * ema_{{ period }} - 3 * ema2_{{ period }} + ema3_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'tema_' ~ period, first_bar=3 * period - 2, value=value, recursive=true,
            talib={'function': 'TEMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Triple EMA ' ~ period ~ ': 3 EMA - 3 EMA(EMA) + EMA(EMA(EMA)).')],
        parts=[indicator_ema_chain_part(period, 3)],
        arguments={'period': "the EMAs' period n"},
        notes='same seeding as DEMA, three EMAs')) }}
{% endmacro %}
