{% macro indicator_dema(period) %}
    {%- set value -%}
        2 * ema_{{ period }} - ema2_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'dema_' ~ period, first_bar=2 * period - 1, value=value, recursive=true,
            talib={'function': 'DEMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='Double EMA ' ~ period ~ ': 2 EMA - EMA(EMA).')],
        parts=[indicator_ema_chain_part(period, 2)],
        arguments={'period': "the EMAs' period n"},
        notes='each EMA of the chain is seeded with the SMA of the first n values of the one before')) }}
{% endmacro %}
