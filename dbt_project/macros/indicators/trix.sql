{% macro indicator_trix(period) %}
    {#- talib.TRIX: the 1-bar rate of change of the triple EMA; the previous value comes from the
        row before, or on the first row of an incremental run from the carried state -#}
    {%- set previous -%}
        coalesce(lag(ema3_{{ period }}) over w_time,
                 {{ ti_value_at_state('ema3_' ~ period, indicator_ema_decay(period)) }})
    {%- endset -%}
    {%- set value -%}
        case when previous_ema3_{{ period }} <> 0
            then ((ema3_{{ period }} / previous_ema3_{{ period }}) - 1) * 100 else 0::float8 end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'trix_' ~ period, first_bar=3 * period - 1, value=value, recursive=true,
            talib={'function': 'TRIX', 'inputs': ['close'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='1-bar rate of change of the triple EMA ' ~ period ~ ', percent.')],
        parts=[indicator_ema_chain_part(period, 3)],
        after_pass={3: {'previous_ema3_' ~ period: previous}},
        arguments={'period': "the EMAs' period n"},
        notes='1-bar ROC of the triple EMA')) }}
{% endmacro %}
