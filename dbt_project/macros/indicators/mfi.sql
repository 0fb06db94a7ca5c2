{% macro indicator_mfi(period) %}
    {#- talib.MFI: money flow by the move of the typical price; a move within 1e-14 of the two
        prices' magnitude is a tie (no flow, TA-Lib's TA_IS_ZERO_SCALED) -#}
    {%- set previous_typical_price -%}
        (lag(high_f) over w_time + lag(low_f) over w_time + lag(close_f) over w_time) / 3
    {%- endset -%}
    {%- set flows = {} -%}
    {%- for side, direction in [('up', '>'), ('down', '<')] -%}
        {%- set flow -%}
            case when abs(typical_price - previous_typical_price)
                      > 1e-14 * (abs(typical_price) + abs(previous_typical_price))
                     and typical_price {{ direction }} previous_typical_price
                then typical_price * volume_f else 0::float8 end
        {%- endset -%}
        {%- do flows.update({'money_flow_' ~ side: flow}) -%}
    {%- endfor -%}
    {%- set value -%}
        case when money_flow_up_{{ period }} + money_flow_down_{{ period }} <= 0 then 0::float8
            else 100 * (money_flow_up_{{ period }} / (money_flow_up_{{ period }} + money_flow_down_{{ period }}))
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'mfi_' ~ period, first_bar=period + 1, value=value,
            talib={'function': 'MFI', 'inputs': ['high', 'low', 'close', 'volume'], 'parameters': {'timeperiod': period}},
            tolerance='points',
            description='Money flow index over ' ~ period ~ ' bars (0 when the flows sum below 1).')],
        parts=[indicator_typical_price_part()], reach=period + 1,
        steps={'previous_typical_price': previous_typical_price},
        terms=flows,
        running_sums={'running_money_flow_up': 'money_flow_up', 'running_money_flow_down': 'money_flow_down'},
        windows={'money_flow_up_' ~ period: ti_moving_sum('running_money_flow_up', period),
                 'money_flow_down_' ~ period: ti_moving_sum('running_money_flow_down', period)},
        checks=['mfi_' ~ period ~ ' between -1e-9 and 100 + 1e-9'],
        arguments={'period': "the window n"},
        notes='a move of the typical price within 1e-14 of the two prices\' magnitude is a tie (no'
            ~ ' flow, TA-Lib\'s `TA_IS_ZERO_SCALED`); 0 when both flows are 0')) }}
{% endmacro %}
