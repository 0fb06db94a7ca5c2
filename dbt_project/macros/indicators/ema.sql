{% macro indicator_ema(period) %}
    {%- set value -%}
        ema_{{ period }}
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'ema_' ~ period, first_bar=period, value=value, recursive=true,
            talib={'function': 'EMA', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            description='EMA ' ~ period ~ ' of the close, seeded with the first ' ~ period
                ~ " closes' SMA.")],
        parts=[indicator_ema_chain_part(period, 1)],
        arguments={'period': "the EMA's period n (k = 2 / (n + 1))"},
        notes='seeded with the SMA of the first n closes, then `k = 2/(n+1)`')) }}
{% endmacro %}
