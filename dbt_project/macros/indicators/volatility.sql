{% macro indicator_volatility(period=20, periods_per_year=252) %}
    {#- the sample standard deviation of the last `period` log returns, annualised -#}
    {%- set log_return -%}
        ln(close_f / lag(close_f) over w_time)
    {%- endset -%}
    {%- set variance -%}
        ({{ ti_mean('running_return_sq', period) }}
         - {{ ti_mean('running_return', period) }} * {{ ti_mean('running_return', period) }})
            * {{ period }} / {{ period - 1 }}
    {%- endset -%}
    {%- set value -%}
        sqrt(greatest(variance_return_{{ period }}, 0)) * sqrt({{ periods_per_year }}::float8)
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'volatility_' ~ period, first_bar=period + 1, value=value,
            talib={'function': 'STDDEV', 'inputs': ['log_return'],
                   'parameters': {'timeperiod': period, 'nbdev': 1},
                   'scale': (period / (period - 1)) ** 0.5 * periods_per_year ** 0.5},
            description='Sample standard deviation of the last ' ~ period ~ ' daily log returns x sqrt('
                ~ periods_per_year ~ ').')],
        reach=period + 1, steps={'log_return': log_return},
        running_sums={'running_return': 'log_return', 'running_return_sq': 'log_return * log_return'},
        windows={'variance_return_' ~ period: variance},
        checks=['volatility_' ~ period ~ ' >= 0'],
        arguments={'period': "the log returns in the window (20)", 'periods_per_year': "the annualisation (252)"},
        notes='sample sigma of n log returns (TA-Lib\'s population STDDEV x sqrt(n/(n-1))), annualised')) }}
{% endmacro %}
