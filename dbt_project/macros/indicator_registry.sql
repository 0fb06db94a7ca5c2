{#-
  The indicator registry: var('indicators') in dbt_project.yml says which families the engine
  computes and with which parameters; each family is one file, macros/indicators/<family>.sql,
  whose macro indicator_<family> declares its columns and what they need
  (macros/indicators/_declaration.sql). A family maps to a list of periods (one declaration per
  period), a period, a mapping of named parameters, or `true` (its defaults).

  Everything else is derived here, once: the output columns (the marts' column lists, the golden
  test), what an incremental run stores, reads back and fetches, how far back it reads, and the
  catalogue the Python side reads (python -m bench.columns writes it to
  seeds/golden/talib_golden_columns.csv; the singular test assert_indicator_catalog_is_current
  fails when it is stale).
-#}

{% macro indicator_families() -%}
    {#- one declaration per family and parameter set, in the registry's order -#}
    {%- set families = [] -%}
    {%- for family, declared in var('indicators', {}).items() if declared is not none and declared is not false -%}
        {%- set declare = context.get('indicator_' ~ family) -%}
        {%- if declare is none -%}
            {%- do exceptions.raise_compiler_error('vars.indicators: no family ' ~ family ~ ' (macros/indicators/' ~ family ~ '.sql)') -%}
        {%- endif -%}
        {%- if declared is true -%}
            {%- set calls = [{}] -%}
        {%- elif declared is mapping -%}
            {%- set calls = [declared] -%}
        {%- elif declared is iterable and declared is not string -%}
            {%- set calls = [] -%}
            {%- for period in declared -%}{%- do calls.append({'period': period}) -%}{%- endfor -%}
        {%- else -%}
            {%- set calls = [{'period': declared}] -%}
        {%- endif -%}
        {%- for parameters in calls -%}
            {%- set declaration = declare(**parameters) -%}
            {%- for column in declaration.columns -%}{%- do column.update({'family': family}) -%}{%- endfor -%}
            {%- do families.append(declaration) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(families) }}
{%- endmacro %}

{% macro indicator_engine() -%}
    {#- the registry's declarations merged into one (indicator_declaration's keys), plus what
        follows from them: outputs (column entries in order), passes (recursions by pass),
        stored, fetched_lags -#}
    {%- set engine = indicator_declaration(
        parts=indicator_families(), lookback=var('indicator_lookback_bars', 200), reach=1,
        running_sums={'running_close': 'close_f - anchor_close'}) -%}
    {%- set passes = [] -%}
    {%- for q in engine.recursions -%}
        {%- for _ in range(passes | length, q.pass) -%}{%- do passes.append([]) -%}{%- endfor -%}
        {%- do passes[q.pass - 1].append(q) -%}
    {%- endfor -%}
    {%- set outputs = engine.columns | map(attribute='name') | list -%}
    {%- set stored = ['anchor_close'] + (engine.running_sums.keys() | list) + engine.reads_back
        + (engine.state.keys() | list) + (engine.series.keys() | list) -%}
    {%- for q in engine.recursions -%}
        {%- do stored.extend(['state_' ~ q.name ~ '_prefix', 'state_' ~ q.name ~ '_anchor']) -%}
    {%- endfor -%}
    {%- set fetched_lags = engine.means_of_close | select('gt', engine.reach) | sort -%}
    {%- do engine.update({'outputs': engine.columns, 'output_names': outputs, 'passes': passes,
                          'stored': stored | unique | list, 'fetched_lags': fetched_lags | list}) -%}
    {{ return(engine) }}
{%- endmacro %}

{% macro indicator_columns() -%}
    {#- the output columns, in the registry's order (the marts list them) -#}
    {{ return(indicator_engine().output_names) }}
{%- endmacro %}

{% macro indicator_stored_columns(engine=none) -%}
    {#- what an incremental run reads back from the stored row it continues from (and the rows
        before it): running sums, read-back outputs, state, carried series, recurrence states -#}
    {{ return((engine or indicator_engine()).stored) }}
{%- endmacro %}

{% macro indicator_fetched_lags(engine=none) -%}
    {#- the mean periods longer than the window reach: an incremental run fetches the stored
        running_close of the bar that many bars back through the (symbol, bar_number) index -#}
    {{ return((engine or indicator_engine()).fetched_lags) }}
{%- endmacro %}

{% macro indicator_fetched_columns(engine=none) -%}
    {#- the columns an incremental run fetches by bar number for each output row (null elsewhere) -#}
    {%- set fetched = [] -%}
    {%- for p in indicator_fetched_lags(engine) -%}{%- do fetched.append('lagged_running_close_' ~ p) -%}{%- endfor -%}
    {{ return(fetched) }}
{%- endmacro %}

{% macro indicator_window_reach(engine=none) -%}
    {#- stored rows an incremental run reads (through the engine's windows) before the first
        changed bar: the longest reach the families declare -#}
    {{ return((engine or indicator_engine()).reach) }}
{%- endmacro %}

{% macro indicator_lookback(engine=none) -%}
    {#- stored bars a symbol needs before its first changed bar to continue incrementally (past
        every seed; at least `indicator_lookback_bars`); symbols with fewer are recomputed from
        their first bar -#}
    {{ return((engine or indicator_engine()).lookback) }}
{%- endmacro %}

{% macro indicator_tolerances() -%}
    {#- How far an engine value may be from TA-Lib's: `relative` of the value, or `absolute` (times
        the reference row's `scale` column, when given) if that is larger. Values that sit at or
        cross zero have no meaningful relative error: the oscillators get 1e-12 points, the
        differences of prices 1e-12 of the price level (in percent of a price: 1e-10 points),
        ADOSC 1e-12 of |AD|. `rescaled`: an oscillator's own range stretched to 0..100 (the
        stochastic RSI): the last digits of RSI - which differ between TA-Lib and the engine, and
        between TA-Lib on one CPU and another - come out multiplied by 100 / that range, so
        1e-9 points. -#}
    {{ return({
        'relative': {'relative': 1e-9, 'absolute': 0, 'scale': none},
        'points': {'relative': 1e-9, 'absolute': 1e-12, 'scale': none},
        'price': {'relative': 1e-9, 'absolute': 1e-12, 'scale': 'close'},
        'percent': {'relative': 1e-9, 'absolute': 1e-10, 'scale': none},
        'rescaled': {'relative': 1e-9, 'absolute': 1e-9, 'scale': none},
        'ad': {'relative': 1e-9, 'absolute': 1e-12, 'scale': 'ad'},
    }) }}
{%- endmacro %}

{% macro indicator_catalog() -%}
    {#- one row per output column: what the Python side reads (the TA-Lib call, first bar,
        tolerance, descriptions; the family's range checks and macro arguments with its first
        column), as seeds/golden/talib_golden_columns.csv holds it -#}
    {%- set tolerances = indicator_tolerances() -%}
    {%- set rows = [] -%}
    {%- for family in indicator_families() -%}
        {%- for c in family.columns -%}
            {%- set tolerance = tolerances[c.tolerance] -%}
            {%- do rows.append({
                'column_name': c.name, 'family': c.family, 'first_bar': c.first_bar,
                'talib': tojson(c.talib), 'relative_tolerance': tolerance.relative,
                'absolute_tolerance': tolerance.absolute, 'tolerance_scale': tolerance.scale or '',
                'description': c.description, 'notes': family.notes,
                'checks': tojson(family.checks if loop.first else []),
                'arguments': tojson(family.arguments if loop.first else {}),
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{% macro indicator_allowed_error(tolerance, expected, close, ad) -%}
    {#- SQL: how far an engine value may be from TA-Lib's `expected`, for a tolerance kind of
        indicator_tolerances(), given the reference row's close and AD -#}
    {%- set rule = indicator_tolerances()[tolerance] -%}
    {%- set scales = {'close': close, 'ad': ad} -%}
    greatest({{ rule.relative }} * abs({{ expected }}), {{ rule.absolute }}
        {%- if rule.scale %} * abs({{ scales[rule.scale] }}){% endif %})
{%- endmacro %}
