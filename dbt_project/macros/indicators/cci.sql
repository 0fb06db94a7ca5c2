{% macro indicator_cci(period) %}
    {#- talib.CCI: the typical price against its mean over `period` bars, in units of 0.015 mean
        absolute deviations. The mean and the deviation are written out as lags (the same additions,
        oldest first, as a frame sum), without a window pass of their own: O(n) per row. -#}
    {%- set mean -%}
        ({% for i in range(period - 1, -1, -1) %}lag(typical_price, {{ i }}) over w_time{{ " + " if not loop.last }}{% endfor %}) / {{ period }}
    {%- endset -%}
    {%- set deviation -%}
        ({% for i in range(period) %}abs(lag(typical_price, {{ i }}) over w_time - mean_typical_price_{{ period }}){{ " + " if not loop.last }}{% endfor %}) / {{ period }}
    {%- endset -%}
    {%- set value -%}
        case
            when abs(typical_price - mean_typical_price_{{ period }}) > 1e-14 * abs(mean_typical_price_{{ period }})
                and mean_deviation_{{ period }} > 1e-14 * abs(mean_typical_price_{{ period }})
                then (typical_price - mean_typical_price_{{ period }}) / (0.015 * mean_deviation_{{ period }})
            else 0::float8
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'cci_' ~ period, first_bar=period, value=value,
            talib={'function': 'CCI', 'inputs': ['high', 'low', 'close'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='Commodity channel index over ' ~ period ~ ' bars of the typical price (0 without deviation).')],
        parts=[indicator_typical_price_part()], reach=period,
        windows={'mean_typical_price_' ~ period: mean},
        scans={'mean_deviation_' ~ period: deviation},
        arguments={'period': "the window n"},
        notes='typical price (h+l+c)/3, mean absolute deviation over the same n bars; 0 when the'
            ~ ' deviation or the distance to the mean is within 1e-14 of the mean')) }}
{% endmacro %}
