{#-
  The indicator engine: technical indicators as TA-Lib (Classic mode) computes them, over each
  symbol's bar series. A skeleton: the families (macros/indicators/<family>.sql, chosen by
  vars.indicators through indicator_engine()) say what to compute at each stage; the engine runs
  the stages, each one window pass (or none) shared by every family:

    ti_base         the input, typed; what an incremental run carried in, as stored_<name>
    ti_steps        `steps`: the bar's inputs and their lags (one pass)
    ti_terms        `terms`: per-bar terms (no pass)
    ti_running      `running_sums`, `seed_sums` (one pass)
    ti_windows      `means_of_close`, `windows`: lags and frames over them (one pass per frame)
    ti_scans        `scans`: lags of those, ordered scans (one pass, and one for the scans)
    ti_output_rows  the output rows: window-side columns final, `state`, the first impulses
    ti_pass_<n>     the recurrences of pass n (linear_recurrences, on a narrow relation), then
                    `derived` layers and one pass for `after_pass`, the carried `series` lags and
                    the next pass's impulses
    ti_final        the recursion side joined back to the output rows: every output column
                    (null before its first bar) and the state to store

  input: one row per symbol and bar, with columns symbol, <order_by> (time), bar_number (1 = the
    symbol's first bar, consecutive), is_output (false for look-back rows), high, low, close,
    volume, source_loaded_at, state_bar_number (bar number of the carried row: the last look-back
    row; 0 when computing from bar 1) and, on look-back rows only (null elsewhere), what was stored
    for them: every column of indicator_stored_columns(); on output rows of an incremental run,
    indicator_fetched_columns() (the stored running_close p bars back, null where that bar is not
    stored). Look-back rows are stored rows of the same computation; they must cover
    indicator_window_reach() bars. indicator_no_carried_state() gives the state columns of a
    series computed from its first bar.
  Returns one row per output bar: the indicators plus the state to carry.

  The primitives and their cost per row (n = the window, B = 512):
  - running sums (and the moving sums and means of the close, the gains, the true range, the
    money flows, ...: differences of two running sums, the close centred on the symbol's first
    close): O(1); an incremental run continues each from the carried row the way the next
    addition would, and fetches the running sum of the close n bars back by bar number when n is
    beyond the window reach;
  - lags: O(1) each. The windows written as n lags (WMA, CCI's mean and mean deviation, AROON's
    bars since the extreme, the stochastic's slow lines) are O(n);
  - frame aggregates (the highest high and lowest low over n bars): O(n), as max/min have no
    inverse transition;
  - linear recurrences (every EMA, Wilder average and chain, with TA-Lib's seeds as impulses):
    O(1), a window sum within B-bar blocks and an affine scan over the block ends
    (macros/linear_recurrences.sql); each pass of a chain is three window passes;
  - ordered scans (KAMA's time-varying factor, Parabolic SAR's state machine): O(1), aggregates
    used as running window functions (macros/create_indicator_functions.sql).
  All passes share one sort order (symbol, block, bar_number). Because the blocks are aligned on
  the bar number and every sum and scan continues from stored state, an incremental run performs
  the floating-point operations of a full refresh: the results are bit-identical.
-#}

{% macro indicator_no_carried_state(engine=none) -%}
    {#- the input columns of a series computed from its first bar: nothing carried -#}
    {%- set engine = engine or indicator_engine() %}
    0::bigint as state_bar_number,
    {%- for c in indicator_stored_columns(engine) + indicator_fetched_columns(engine) %}
    null::float8 as {{ c }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro ti_impulse(seed_bar, seed, k, x) -%}
    {#- a recurrence's input u: the seed on the seed bar, k * x after it, 0 before -#}
    case
        when bar_number = {{ seed_bar }} then {{ seed }}
        when bar_number > {{ seed_bar }} then ({{ k }}) * ({{ x }})
        else 0::float8
    end
{%- endmacro %}

{% macro ti_moving_sum(running_sum, n) -%}
    {#- the sum of the last n terms of a running sum (n within the window reach) -#}
    ({{ running_sum }} - lag({{ running_sum }}, {{ n }}, 0::float8) over w_time)
{%- endmacro %}

{% macro ti_mean(running_sum, n) -%}
    {#- the mean of the last n terms of a running sum (n within the window reach) -#}
    {{ ti_moving_sum(running_sum, n) }} / {{ n }}
{%- endmacro %}

{% macro ti_window(expr, rows, fn='sum') -%}
    {{ fn }}({{ expr }}) over (w_time rows between {{ rows - 1 }} preceding and current row)
{%- endmacro %}

{% macro ti_running_sum(expr) -%}
    {#- a running sum on the recursion side (for seeds: never reached by an incremental run) -#}
    sum({{ expr }}) over (w_time rows unbounded preceding)
{%- endmacro %}

{% macro ti_value_at_state(name, decay) -%}
    {#- a recurrence's value on the carried row, from its stored state (the operations that
        computed it there); null when nothing is carried -#}
    case when state_step > 0 then
        power({{ decay }}, {{ recurrence_position('state_step') }}) * {{ name }}_prefix0
        + power({{ decay }}, {{ recurrence_position('state_step') }}) * {{ name }}_anchor0
    end
{%- endmacro %}

{% macro ti_carry(q, carried) -%}
    {%- if not carried -%}
    0::float8 as {{ q }}_prefix0,
    0::float8 as {{ q }}_anchor0
    {%- else -%}
    coalesce(max(state_{{ q }}_prefix) filter (where bar_number = state_bar_number)
                 over (partition by symbol), 0) as {{ q }}_prefix0,
    coalesce(max(state_{{ q }}_anchor) filter (where bar_number = state_bar_number)
                 over (partition by symbol), 0) as {{ q }}_anchor0
    {%- endif -%}
{%- endmacro %}

{% macro ti_fetched_mean(p, carried, fetched_lags) -%}
    {#- the mean close of the last p bars; an incremental run reads the running sum p bars back
        from its rows when they reach that far, else from the value fetched by bar number, else
        (before the first bar) 0 -#}
    {%- if carried and p in fetched_lags -%}
    (running_close - coalesce(lag(running_close, {{ p }}) over w_time,
                              lagged_running_close_{{ p }}, 0::float8)) / {{ p }}
    {%- else -%}
    {{ ti_mean('running_close', p) }}
    {%- endif -%}
{%- endmacro %}

{% macro ti_carried_state(engine, carried) -%}
    {#- the carried state the recursion side needs: each recurrence's prefix and anchor on the
        carried row, and the carried series' last values -#}
    {%- set columns = [] -%}
    {%- for q in engine.recursions -%}
        {%- do columns.extend([q.name ~ '_prefix0', q.name ~ '_anchor0']) -%}
    {%- endfor -%}
    {%- for name, lags in (engine.series.items() if carried else []) -%}
        {%- for k in range(1, lags + 1) -%}{%- do columns.append('carried_' ~ name ~ '_lag_' ~ k) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro ti_series_pass(engine, name) -%}
    {#- the recursion pass after which a carried series exists -#}
    {%- for q in engine.recursions if q.name == name -%}{{ return(q.pass) }}{%- endfor -%}
    {%- for pass, layers in engine.derived.items() -%}
        {%- for layer in layers if name in layer -%}{{ return(pass) }}{%- endfor -%}
    {%- endfor -%}
    {%- for pass, items in engine.after_pass.items() if name in items -%}{{ return(pass) }}{%- endfor -%}
    {%- do exceptions.raise_compiler_error('indicator series ' ~ name ~ ' is not computed on the recursion side') -%}
{%- endmacro %}

{% macro technical_indicators(input, order_by='trade_date', carried=true, engine=none) %}
{#- engine: indicator_engine(), when the caller has it (it is computed from every family's
    declaration) -#}
{%- set engine = engine or indicator_engine() %}
{%- set passes = engine.passes %}
{%- set stored_sums = ['anchor_close'] + (engine.running_sums.keys() | list) %}
{%- set in_time = 'partition by symbol order by ti_block, bar_number' %}
with

ti_base as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        {{ recurrence_block('bar_number') }} as ti_block,
        is_output,
        high::float8 as high_f,
        low::float8 as low_f,
        close::float8 as close_f,
        volume::float8 as volume_f,
        source_loaded_at,
        state_bar_number,
        {%- for name in stored_sums + engine.reads_back + (engine.state.keys() | list) + (engine.series.keys() | list) %}
        {{ name }} as stored_{{ name }},
        {%- endfor %}
        {%- for c in indicator_fetched_columns(engine) %}
        {{ c }},
        {%- endfor %}
        {%- for q in engine.recursions %}
        state_{{ q.name }}_prefix,
        state_{{ q.name }}_anchor,
        {%- endfor %}
        true as ti_typed
    from {{ input }}

),

ti_steps as (

    select
        *,
        {%- for name, sql in engine.steps.items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        {%- if carried %}
        {%- for name in engine.running_sums %}
        -- what the carried row stored (reaches only the first output row)
        lag(stored_{{ name }}) over w_time as carried_{{ name }},
        {%- endfor %}
        coalesce(max(stored_anchor_close) over (partition by symbol),
                 first_value(close_f) over w_time) as anchor_close
        {%- else %}
        first_value(close_f) over w_time as anchor_close
        {%- endif %}
    from ti_base
    window w_time as ({{ in_time }})

),

ti_terms as (

    select
        *,
        {%- for name, sql in engine.terms.items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        true as ti_termed
    -- no window function here: PostgreSQL folds this into the next pass
    from ti_steps

),

ti_running as (

    select
        *,
        {%- for name, term in engine.running_sums.items() %}
        -- stored on look-back rows; on output rows the sum goes on from the carried row
        {%- if carried %}
        case when is_output then
            sum(coalesce({{ term }}, 0)
                + case when bar_number = state_bar_number + 1
                       then coalesce(carried_{{ name }}, 0) else 0 end)
                filter (where is_output) over running
        else stored_{{ name }} end
        {%- else %}
        sum(coalesce({{ term }}, 0)) over running
        {%- endif %} as {{ name }},
        {%- endfor %}
        {%- for name, term in engine.seed_sums.items() %}
        sum({{ term }}) over running as {{ name }},
        {%- endfor %}
        true as ti_ran
    from ti_terms
    window running as ({{ in_time }} rows unbounded preceding)

),

ti_windows as (

    select
        *,
        state_bar_number as state_step,
        {%- for p in engine.means_of_close | sort %}
        anchor_close + {{ ti_fetched_mean(p, carried, engine.fetched_lags) }} as mean_close_{{ p }},
        {%- endfor %}
        {%- for name, sql in engine.windows.items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        {%- if carried %}
        {%- for name, lags in engine.series.items() %}
        {%- for k in range(1, lags + 1) %}
        lag(stored_{{ name }}, {{ k }}) over w_time as carried_{{ name }}_lag_{{ k }},
        {%- endfor %}
        {%- endfor %}
        {%- endif %}
        {%- for q in engine.recursions %}
        {{ ti_carry(q.name, carried) }},
        {%- endfor %}
        true as ti_windowed
    from ti_running
    window w_time as ({{ in_time }})

),

ti_scans as (

    select
        *,
        {%- for name, sql in engine.scans.items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        true as ti_scanned
    from ti_windows
    window w_time as ({{ in_time }})

),

-- one row per output bar, narrowed to what comes after: the outputs that need no recurrence
-- (final here), the impulses of the recurrences and the state to store. Its columns are listed,
-- so the window passes below carry only what is used (it is read twice, so it is materialised,
-- and a materialised CTE keeps every column it names).
ti_output_rows as (

    select
        symbol,
        {{ order_by }},
        bar_number,
        ti_block,
        state_step,
        close_f,
        high_f,
        low_f,
        volume_f,
        source_loaded_at,
        {%- for c in engine.outputs if not c.recursive %}
        case when bar_number >= {{ c.first_bar }} then {{ c.value }} end as {{ c.name }},
        {%- endfor %}
        {%- for name in stored_sums if name not in engine.output_names %}
        {{ name }},
        {%- endfor %}
        {%- for name, sql in engine.state.items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        {%- for c in ti_carried_state(engine, carried) %}
        {{ c }},
        {%- endfor %}
        {%- for q in (passes[0] if passes else []) %}
        {{ q.impulse }} as {{ q.name }}_impulse,
        {%- endfor %}
        true as ti_impulsed
    from ti_scans
    where is_output

),

-- the recurrences run on a narrow relation of their own (keys, carried state, impulses): each of
-- their window passes costs by the width of its rows; ti_final joins them back
ti_pass_0 as (

    select
        symbol,
        ti_block,
        bar_number,
        state_step,
        {%- for c in ti_carried_state(engine, carried) %}
        {{ c }},
        {%- endfor %}
        {%- for q in (passes[0] if passes else []) %}
        {{ q.name }}_impulse,
        {%- endfor %}
        true as ti_impulsed
    from ti_output_rows

),
{%- set previous = namespace(cte='ti_pass_0') %}
{%- for quantities in passes %}
{%- set pass = loop.index %}

ti_pass_{{ pass }} as (

    {{ linear_recurrences(previous.cte, step='bar_number', carried=carried, quantities=quantities) }}

),
{%- set previous.cte = 'ti_pass_' ~ pass %}
{%- for layer in engine.derived.get(pass, []) %}

ti_pass_{{ pass }}_derived_{{ loop.index }} as (

    select
        *,
        {%- for name, sql in layer.items() %}
        {{ sql }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ previous.cte }}

),
{%- set previous.cte = 'ti_pass_' ~ pass ~ '_derived_' ~ loop.index %}
{%- endfor %}
{%- set series_here = [] %}
{%- for name in engine.series if ti_series_pass(engine, name) == pass %}{%- do series_here.append(name) %}{%- endfor %}
{%- set next_impulses = passes[pass] if pass < passes | length else [] %}
{%- if engine.after_pass.get(pass) or series_here or next_impulses %}

ti_pass_{{ pass }}_windows as (

    select
        *,
        {%- for name, sql in engine.after_pass.get(pass, {}).items() %}
        {{ sql }} as {{ name }},
        {%- endfor %}
        {%- for name in series_here %}
        {%- for k in range(1, engine.series[name] + 1) %}
        {%- if carried %}
        coalesce(lag({{ name }}, {{ k }}) over w_time, carried_{{ name }}_lag_{{ k }})
        {%- else %}
        lag({{ name }}, {{ k }}) over w_time
        {%- endif %} as {{ name }}_lag_{{ k }},
        {%- endfor %}
        {%- endfor %}
        {%- for q in next_impulses %}
        {{ q.impulse }} as {{ q.name }}_impulse,
        {%- endfor %}
        true as ti_pass_{{ pass }}_windowed
    from {{ previous.cte }}
    window w_time as ({{ in_time }})

),
{%- set previous.cte = 'ti_pass_' ~ pass ~ '_windows' %}
{%- endif %}
{%- endfor %}

ti_final as (

    select
        {%- for name, type, expression in indicator_result_columns(order_by, engine) %}
        {{ expression }}{{ " as " ~ name if expression != name }},
        {%- endfor %}
        true as ti_final
    from ti_output_rows
    inner join {{ previous.cte }} using (symbol, ti_block, bar_number)

)

select
    {%- for name, type, expression in indicator_result_columns(order_by, engine) %}
    {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
from ti_final
{% endmacro %}

{% macro indicator_result_columns(order_by='trade_date', engine=none) %}
    {#- the engine's result, in order: (name, type, expression in ti_final) - the key, the close,
        every output column (null before its first bar), and what an incremental run reads back
        from a stored row (high, low, volume, running sums, state, series, recurrence states) -#}
    {%- set engine = engine or indicator_engine() -%}
    {%- set columns = [('symbol', 'text', 'symbol'), (order_by, 'date' if order_by == 'trade_date' else 'timestamptz', order_by),
                       ('bar_number', 'bigint', 'bar_number'), ('close', 'float8', 'close_f')] -%}
    {%- for c in engine.outputs -%}
        {%- set value -%}
            case when bar_number >= {{ c.first_bar }} then {{ c.value }} end
        {%- endset -%}
        {%- do columns.append((c.name, 'float8', value if c.recursive else c.name)) -%}
    {%- endfor -%}
    {%- for name, expression in [('high', 'high_f'), ('low', 'low_f'), ('volume', 'volume_f')] -%}
        {%- do columns.append((name, 'float8', expression)) -%}
    {%- endfor -%}
    {%- for name in ['anchor_close'] + (engine.running_sums.keys() | list) + (engine.state.keys() | list)
                    + (engine.series.keys() | list) if name not in engine.output_names -%}
        {%- do columns.append((name, 'float8', name)) -%}
    {%- endfor -%}
    {%- for q in engine.recursions -%}
        {%- do columns.append(('state_' ~ q.name ~ '_prefix', 'float8', q.name ~ '_prefix')) -%}
        {%- do columns.append(('state_' ~ q.name ~ '_anchor', 'float8', q.name ~ '_anchor')) -%}
    {%- endfor -%}
    {%- do columns.append(('source_loaded_at', 'timestamptz', 'source_loaded_at')) -%}
    {{ return(columns) }}
{% endmacro %}
