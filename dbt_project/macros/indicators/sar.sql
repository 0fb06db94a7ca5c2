{% macro indicator_sar(acceleration=0.02, maximum=0.2) %}
    {#- talib.SAR(high, low, acceleration, maximum): an ordered scan (udf.sar_scan); an incremental
        run starts it from the carried row's stored state -#}
    {%- set carried -%}
        case when lag(stored_state_sar_is_long) over w_time is not null then array[
            lag(stored_state_sar_is_long) over w_time, lag(stored_state_sar_value) over w_time,
            lag(stored_state_sar_ep) over w_time, lag(stored_state_sar_af) over w_time,
            lag(high_f) over w_time, lag(low_f) over w_time, null]::float8[]
        end
    {%- endset -%}
    {%- set scan -%}
        udf.sar_scan(high_f, low_f, {{ acceleration }}::float8, {{ maximum }}::float8, sar_carried)
            filter (where is_output) over (w_time rows unbounded preceding)
    {%- endset -%}
    {{ return(indicator_declaration(
        columns=[indicator_column(
            'sar', first_bar=2, value='sar_state[7]',
            talib={'function': 'SAR', 'inputs': ['high', 'low'],
                   'parameters': {'acceleration': acceleration, 'maximum': maximum}},
            description='Parabolic SAR; the first direction from MINUS_DM of the first two bars.')],
        reach=1, windows={'sar_carried': carried}, scans={'sar_state': scan},
        state={'state_sar_is_long': 'sar_state[1]', 'state_sar_value': 'sar_state[2]',
               'state_sar_ep': 'sar_state[3]', 'state_sar_af': 'sar_state[4]'},
        arguments={'acceleration': "the acceleration factor step (0.02)", 'maximum': "the acceleration factor's maximum (0.2)"},
        notes='the first direction comes from MINUS_DM of bars 1-2 (short when positive); the initial'
            ~ ' SAR is bar 1\'s low (long) or high (short), and the first step treats bar 2 as its own'
            ~ ' previous bar')) }}
{% endmacro %}
