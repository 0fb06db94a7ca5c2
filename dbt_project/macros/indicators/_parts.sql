{#-
  Parts several families share, declared once (macros/indicators/_declaration.sql): a family
  lists the parts it needs in `parts`, and the engine computes each quantity once.
-#}

{% macro indicator_change_part() %}
    {#- the move of the close from the previous bar (null on bar 1) -#}
    {%- set change -%}
        close_f - lag(close_f) over w_time
    {%- endset -%}
    {{ return(indicator_declaration(reach=1, steps={'change': change})) }}
{% endmacro %}

{% macro indicator_previous_close_part() %}
    {%- set previous_close -%}
        lag(close_f) over w_time
    {%- endset -%}
    {{ return(indicator_declaration(reach=1, steps={'previous_close': previous_close})) }}
{% endmacro %}

{% macro indicator_true_range_part() %}
    {#- talib.TRANGE: needs the previous close (none on bar 1); its running sum -#}
    {%- set true_range -%}
        -- greatest()/least() ignore nulls: no true range without a previous close
        case when lag(close_f) over w_time is not null then
            greatest(high_f, lag(close_f) over w_time) - least(low_f, lag(close_f) over w_time)
        end
    {%- endset -%}
    {{ return(indicator_declaration(
        reach=1, steps={'true_range': true_range},
        running_sums={'running_true_range': 'true_range'})) }}
{% endmacro %}

{% macro indicator_typical_price_part() %}
    {%- set typical_price -%}
        (high_f + low_f + close_f) / 3
    {%- endset -%}
    {{ return(indicator_declaration(steps={'typical_price': typical_price})) }}
{% endmacro %}

{% macro indicator_wilder_gains_part(period) %}
    {#- talib.RSI's averages: the gains and losses of the close, Wilder-smoothed (1/n), seeded on
        bar n + 1 with the mean of the first n (bars 2..n+1); avg_gain_<n>, avg_loss_<n> -#}
    {%- set gain -%}
        case when change is not null then greatest(change, 0) end
    {%- endset -%}
    {%- set loss -%}
        case when change is not null then greatest(-change, 0) end
    {%- endset -%}
    {%- set recursions = [] -%}
    {%- for side in ['gain', 'loss'] -%}
        {%- set mean -%}
            mean_{{ side }}_{{ period }}
        {%- endset -%}
        {%- do recursions.append(indicator_recursion(
            'avg_' ~ side ~ '_' ~ period, indicator_wilder_decay(period), 1,
            ti_impulse(period + 1, mean, indicator_wilder_factor(period), side))) -%}
    {%- endfor -%}
    {{ return(indicator_declaration(
        parts=[indicator_change_part()], reach=period + 1,
        terms={'gain': gain, 'loss': loss},
        running_sums={'running_gain': 'gain', 'running_loss': 'loss'},
        windows={'mean_gain_' ~ period: ti_mean('running_gain', period),
                 'mean_loss_' ~ period: ti_mean('running_loss', period)},
        recursions=recursions)) }}
{% endmacro %}

{% macro indicator_ema_chain_part(period, depth) %}
    {#- EMA(period) of the close and `depth` - 1 EMAs of it in a chain (talib.DEMA, TEMA, TRIX,
        T3): ema_<p>, ema2_<p>, ema3_<p>, ... Each is seeded, as TA-Lib seeds them, with the mean
        of the first p values of the one before (the first with the SMA of the first p closes), so
        level m starts on bar m (p - 1) + 1. -#}
    {%- set recursions = [] -%}
    {%- for level in range(1, depth + 1) -%}
        {%- set name = indicator_ema_level(period, level) -%}
        {%- if level == 1 -%}
            {%- set seed -%}
                mean_close_{{ period }}
            {%- endset -%}
            {%- set x = 'close_f' -%}
        {%- else -%}
            {%- set x = indicator_ema_level(period, level - 1) -%}
            {%- set earlier -%}
                case when bar_number >= {{ (level - 1) * (period - 1) + 1 }} then {{ x }} end
            {%- endset -%}
            {%- set seed -%}
                {{ ti_running_sum(earlier) }} / {{ period }}
            {%- endset -%}
        {%- endif -%}
        {%- do recursions.append(indicator_recursion(
            name, indicator_ema_decay(period), level,
            ti_impulse(level * (period - 1) + 1, seed, indicator_ema_factor(period), x))) -%}
    {%- endfor -%}
    {{ return(indicator_declaration(means_of_close=[period], recursions=recursions)) }}
{% endmacro %}

{% macro indicator_ema_level(period, level) -%}
    {{ return('ema_' ~ period if level == 1 else 'ema' ~ level ~ '_' ~ period) }}
{%- endmacro %}

{#- The factors of TA-Lib's averages, written as TA-Lib computes them -#}
{% macro indicator_ema_factor(period) -%}2::float8 / {{ period + 1 }}{%- endmacro %}
{% macro indicator_ema_decay(period) -%}({{ period - 1 }}::float8 / {{ period + 1 }}){%- endmacro %}
{% macro indicator_wilder_factor(period) -%}1::float8 / {{ period }}{%- endmacro %}
{% macro indicator_wilder_decay(period) -%}({{ period - 1 }}::float8 / {{ period }}){%- endmacro %}
