{% macro indicator_macd(fast=12, slow=26, signal=9) %}
    {#- talib.MACD(close, fast, slow, signal): the fast EMA is seeded on the `fast` closes ending
        at the slow seed's bar, the signal on the first `signal` MACD values -#}
    {%- set first_bar = slow + signal - 1 -%}
    {%- set fast_seed -%}
        mean_close_{{ fast }}
    {%- endset -%}
    {%- set macd_line -%}
        case when bar_number >= {{ slow }} then macd_fast_ema - ema_{{ slow }} end
    {%- endset -%}
    {%- set signal_seed -%}
        {{ ti_running_sum('macd_line') }} / {{ signal }}
    {%- endset -%}
    {%- set hist -%}
        macd_line - macd_signal
    {%- endset -%}
    {%- set talib = {'function': 'MACD', 'inputs': ['close'],
                     'parameters': {'fastperiod': fast, 'slowperiod': slow, 'signalperiod': signal}} -%}
    {{ return(indicator_declaration(
        columns=[
            indicator_column(
                'macd', first_bar=first_bar, value='macd_line', recursive=true,
                talib=dict(talib, output='macd'), tolerance='price',
                description='MACD line: EMA ' ~ fast ~ ' - EMA ' ~ slow ~ ' (the fast EMA seeded on bars '
                    ~ (slow - fast + 1) ~ '..' ~ slow ~ ').'),
            indicator_column(
                'macd_signal', first_bar=first_bar, value='macd_signal', recursive=true,
                talib=dict(talib, output='macdsignal'), tolerance='price',
                description='Signal line: EMA ' ~ signal ~ ' of the MACD line, seeded with its first '
                    ~ signal ~ ' values.'),
            indicator_column(
                'macd_hist', first_bar=first_bar, value=hist, recursive=true,
                talib=dict(talib, output='macdhist'), tolerance='price',
                description='macd - macd_signal.'),
        ],
        parts=[indicator_ema_chain_part(slow, 1)],
        means_of_close=[fast],
        recursions=[
            indicator_recursion('macd_fast_ema', indicator_ema_decay(fast), 1,
                                ti_impulse(slow, fast_seed, indicator_ema_factor(fast), 'close_f')),
            indicator_recursion('macd_signal', indicator_ema_decay(signal), 2,
                                ti_impulse(first_bar, signal_seed, indicator_ema_factor(signal), 'macd_line')),
        ],
        derived={1: [{'macd_line': macd_line}]},
        arguments={'fast': "the fast EMA's period (12)", 'slow': "the slow EMA's period (26)", 'signal': "the signal EMA's period (9)"},
        notes='the fast EMA is seeded on the ' ~ fast ~ ' closes ending at bar ' ~ slow ~ ' (not bar ' ~ fast
            ~ '); the signal seeds on the first ' ~ signal ~ ' MACD values')) }}
{% endmacro %}
