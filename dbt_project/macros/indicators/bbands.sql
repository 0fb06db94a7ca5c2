{% macro indicator_bbands(period=20, nbdev_up=2, nbdev_down=2) %}
    {#- talib.BBANDS(close, period, up, down, SMA): population sigma of the closes -#}
    {%- set variance -%}
        {{ ti_mean('running_close_sq', period) }}
            - {{ ti_mean('running_close', period) }} * {{ ti_mean('running_close', period) }}
    {%- endset -%}
    {%- set flat -%}
        -- no change in the window's closes: the variance is 0, whatever the running sums' rounding
        running_abs_change - lag(running_abs_change, {{ period - 1 }}, 0::float8) over w_time = 0
    {%- endset -%}
    {%- set sigma -%}
        case when variance_close_{{ period }} <= 0 or flat_close_{{ period }} then 0::float8
            else sqrt(variance_close_{{ period }}) end
    {%- endset -%}
    {%- set upper -%}
        mean_close_{{ period }} + {{ nbdev_up }} * {{ sigma }}
    {%- endset -%}
    {%- set middle -%}
        mean_close_{{ period }}
    {%- endset -%}
    {%- set lower -%}
        mean_close_{{ period }} - {{ nbdev_down }} * {{ sigma }}
    {%- endset -%}
    {%- set talib = {'function': 'BBANDS', 'inputs': ['close'],
                     'parameters': {'timeperiod': period, 'nbdevup': nbdev_up, 'nbdevdn': nbdev_down, 'matype': 0}} -%}
    {%- set square -%}
        (close_f - anchor_close) * (close_f - anchor_close)
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[
            indicator_column('bb_upper', first_bar=period, value=upper, talib=dict(talib, output='upperband'),
                             description='Upper Bollinger band: SMA ' ~ period ~ ' + ' ~ nbdev_up ~ ' population sigma.'),
            indicator_column('bb_middle', first_bar=period, value=middle, talib=dict(talib, output='middleband'),
                             description='Middle Bollinger band (SMA ' ~ period ~ ').'),
            indicator_column('bb_lower', first_bar=period, value=lower, talib=dict(talib, output='lowerband'),
                             description='Lower Bollinger band: SMA ' ~ period ~ ' - ' ~ nbdev_down ~ ' population sigma.'),
        ],
        parts=[indicator_change_part()],
        means_of_close=[period], reach=period + 1,
        running_sums={'running_close_sq': square, 'running_abs_change': 'abs(change)'},
        windows={'variance_close_' ~ period: variance, 'flat_close_' ~ period: flat},
        checks=['bb_lower <= bb_middle and bb_middle <= bb_upper'],
        arguments={'period': "the window (20)", 'nbdev_up': "sigmas above (2)", 'nbdev_down': "sigmas below (2)"},
        notes='**population** sigma; 0 when the variance is not positive, and on a window of equal'
            ~ ' closes (the bands collapse onto the mean, as TA-Lib\'s do; the running sums\' rounding'
            ~ ' would leave ~1e-6 there)')) }}
{% endmacro %}
