{#-
  The indicator registry: var('indicators') in dbt_project.yml is the one declaration of what the
  engine computes. Each family maps to a list of periods (one column per period, named
  <family>_<period>, or several for multi-output families) or to `true` for the families whose
  parameters are fixed (their column names carry none). Everything else is derived from it here:
  the output columns (marts' column lists, golden test), the recursive quantities the engine
  evaluates and stores for incremental runs, and the look-back an incremental run reads.
  The Python side (bench/indicators.py) reads the same vars for TA-Lib's reference values, the
  generated YAML column entries (python -m bench.columns) and the golden rows (python -m bench.golden).
-#}

{% macro indicator_family(name) -%}
    {#- the periods declared for a family ([] when absent; [true] for a fixed-parameter family) -#}
    {%- set declared = var('indicators', {}).get(name) -%}
    {%- if declared is none or declared is false -%}
        {{ return([]) }}
    {%- elif declared is true -%}
        {{ return([true]) }}
    {%- elif declared is iterable -%}
        {{ return(declared | list) }}
    {%- else -%}
        {{ return([declared]) }}
    {%- endif -%}
{%- endmacro %}

{% macro indicator_has(name) -%}
    {{ return(indicator_family(name) | length > 0) }}
{%- endmacro %}

{% macro indicator_union(names) -%}
    {#- sorted distinct periods over several families (e.g. the EMAs that DEMA/TEMA/TRIX share) -#}
    {%- set periods = [] -%}
    {%- for name in names -%}
        {%- for p in indicator_family(name) if p not in periods -%}
            {%- do periods.append(p) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(periods | sort) }}
{%- endmacro %}

{% macro indicator_columns() -%}
    {#- the output columns, in declaration order -#}
    {%- set fixed = {
        'macd': ['macd', 'macd_signal', 'macd_hist'],
        'bbands': ['bb_upper', 'bb_middle', 'bb_lower'],
        'obv': ['obv'],
        'volatility': ['volatility_20'],
        'stoch': ['stoch_slowk', 'stoch_slowd'],
        'ultosc': ['ultosc'],
        'sar': ['sar'],
        'ad': ['ad'],
        'adosc': ['adosc'],
    } -%}
    {%- set multi = {
        'aroon': ['aroon_up', 'aroon_down'],
        'adx': ['adx', 'plus_di', 'minus_di'],
    } -%}
    {%- set columns = [] -%}
    {%- for family, declared in var('indicators', {}).items() if declared -%}
        {%- if family in fixed -%}
            {%- for c in fixed[family] -%}{%- do columns.append(c) -%}{%- endfor -%}
        {%- else -%}
            {%- for p in indicator_family(family) -%}
                {%- for prefix in multi.get(family, [family]) -%}
                    {%- do columns.append(prefix ~ '_' ~ p) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro indicator_ema_decay(p) -%}({{ p - 1 }}::float8 / {{ p + 1 }}){%- endmacro %}
{% macro indicator_wilder_decay(n) -%}({{ n - 1 }}::float8 / {{ n }}){%- endmacro %}

{% macro indicator_recursion_passes() -%}
    {#- the recursive quantities, by pass: a pass's impulses read the values of the passes before -#}
    {%- set first = [] -%}
    {%- set second = [] -%}
    {%- set third = [] -%}
    {%- for p in indicator_union(['ema', 'dema', 'tema', 'trix']) -%}
        {%- do first.append({'name': 'ema_' ~ p, 'decay': indicator_ema_decay(p)}) -%}
    {%- endfor -%}
    {%- if indicator_has('macd') -%}
        {%- do first.append({'name': 'macd_fast_ema', 'decay': indicator_ema_decay(12)}) -%}
        {%- do second.append({'name': 'macd_signal', 'decay': indicator_ema_decay(9)}) -%}
    {%- endif -%}
    {%- for n in indicator_family('rsi') -%}
        {%- do first.append({'name': 'avg_gain_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
        {%- do first.append({'name': 'avg_loss_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
    {%- endfor -%}
    {%- for n in indicator_union(['atr', 'natr']) -%}
        {%- do first.append({'name': 'atr_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
    {%- endfor -%}
    {%- for n in indicator_family('adx') -%}
        {%- do first.append({'name': 'plus_dm_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
        {%- do first.append({'name': 'minus_dm_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
        {%- do first.append({'name': 'tr_sum_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
        {%- do second.append({'name': 'adx_' ~ n, 'decay': indicator_wilder_decay(n)}) -%}
    {%- endfor -%}
    {%- if indicator_has('adosc') -%}
        {%- do first.append({'name': 'adosc_fast', 'decay': '(1 - 2::float8 / 4)'}) -%}
        {%- do first.append({'name': 'adosc_slow', 'decay': '(1 - 2::float8 / 11)'}) -%}
    {%- endif -%}
    {%- for p in indicator_union(['dema', 'tema', 'trix']) -%}
        {%- do second.append({'name': 'ema_ema_' ~ p, 'decay': indicator_ema_decay(p)}) -%}
    {%- endfor -%}
    {%- for p in indicator_union(['tema', 'trix']) -%}
        {%- do third.append({'name': 'ema_ema_ema_' ~ p, 'decay': indicator_ema_decay(p)}) -%}
    {%- endfor -%}
    {{ return([first, second, third]) }}
{%- endmacro %}

{% macro indicator_recursions() -%}
    {%- set names = [] -%}
    {%- for pass in indicator_recursion_passes() -%}
        {%- for q in pass -%}{%- do names.append(q.name) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro indicator_running_sums() -%}
    {#- running sums carried from row to row: name -> the term added on each bar -#}
    {%- set sums = {'anchor_close': none, 'running_close': 'close_f - anchor_close',
                    'running_close_sq': '(close_f - anchor_close) * (close_f - anchor_close)',
                    'running_return': 'log_return', 'running_return_sq': 'log_return * log_return',
                    'running_gain': 'gain', 'running_loss': 'loss',
                    'running_true_range': 'true_range'} -%}
    {#- the moving sums of the short windows are differences of running sums too: one window
        pass for all of them instead of one per frame length -#}
    {%- if indicator_has('bbands') or indicator_has('kama') -%}
        {%- do sums.update({'running_abs_change': 'abs(change)'}) -%}
    {%- endif -%}
    {%- if indicator_has('mfi') -%}
        {%- do sums.update({'running_money_flow_up': 'money_flow_up',
                            'running_money_flow_down': 'money_flow_down'}) -%}
    {%- endif -%}
    {%- if indicator_has('ultosc') -%}
        {%- do sums.update({'running_buying_pressure': 'buying_pressure'}) -%}
    {%- endif -%}
    {%- if indicator_has('obv') -%}{%- do sums.update({'obv': 'obv_step'}) -%}{%- endif -%}
    {%- if indicator_has('ad') or indicator_has('adosc') -%}
        {%- do sums.update({'ad': 'ad_step'}) -%}
    {%- endif -%}
    {{ return(sums) }}
{%- endmacro %}

{% macro indicator_lookback() -%}
    {#- stored bars a symbol needs before its first changed bar to continue incrementally: the
        longest window or seed of the registry (an incremental run continues only past every
        seed); symbols with fewer are recomputed from their first bar -#}
    {%- set reach = [var('indicator_lookback_bars', 200)] -%}
    {%- for f in ['sma', 'ema', 'wma', 'willr', 'cci'] -%}
        {%- for p in indicator_family(f) -%}{%- do reach.append(p) -%}{%- endfor -%}
    {%- endfor -%}
    {%- for f in ['mom', 'roc', 'rsi', 'atr', 'natr', 'mfi', 'aroon', 'kama'] -%}
        {%- for p in indicator_family(f) -%}{%- do reach.append(p + 1) -%}{%- endfor -%}
    {%- endfor -%}
    {%- for p in indicator_family('adx') + indicator_family('dema') -%}
        {%- do reach.append(2 * p) -%}
    {%- endfor -%}
    {%- for p in indicator_union(['tema', 'trix']) -%}{%- do reach.append(3 * p + 1) -%}{%- endfor -%}
    {{ return(reach | max) }}
{%- endmacro %}

{% macro indicator_mean_periods() -%}
    {#- the periods of the moving means of the close (differences of the running sum
        running_close): SMAs, the SMA seeds of the EMA family and MACD, the Bollinger mean -#}
    {%- set periods = indicator_union(['sma', 'ema', 'dema', 'tema', 'trix'])
        + ([12] if indicator_has('macd') else []) + ([20] if indicator_has('bbands') else []) -%}
    {{ return(periods | unique | sort) }}
{%- endmacro %}

{% macro indicator_window_reach() -%}
    {#- stored rows an incremental run reads (through the engine's windows) before the first
        changed bar: the longest short window - lags, frames and the smoothing of their results -
        over the registry. Longer reaches (the running sum of the close 50 or 200 bars back) are
        not read as rows but fetched by bar number (indicator_fetched_lags). -#}
    {%- set reach = [21] -%}  {#- the 20-bar sums of squares and log returns (BBANDS, volatility) -#}
    {%- for f in ['wma', 'willr', 'cci', 'mom', 'roc'] -%}
        {%- for p in indicator_family(f) -%}{%- do reach.append(p) -%}{%- endfor -%}
    {%- endfor -%}
    {%- for f in ['rsi', 'atr', 'natr', 'mfi', 'aroon', 'kama'] -%}
        {%- for p in indicator_family(f) -%}{%- do reach.append(p + 1) -%}{%- endfor -%}
    {%- endfor -%}
    {%- if indicator_has('stoch') -%}{%- do reach.append(14 + 4) -%}{%- endif -%}
    {%- if indicator_has('ultosc') -%}{%- do reach.append(28 + 1) -%}{%- endif -%}
    {{ return(reach | max) }}
{%- endmacro %}

{% macro indicator_fetched_lags() -%}
    {#- the mean periods longer than the window reach: an incremental run fetches the stored
        running_close of the bar that many bars back through the (symbol, bar_number) index -#}
    {%- set reach = indicator_window_reach() -%}
    {%- set lags = [] -%}
    {%- for p in indicator_mean_periods() if p > reach -%}{%- do lags.append(p) -%}{%- endfor -%}
    {{ return(lags) }}
{%- endmacro %}
