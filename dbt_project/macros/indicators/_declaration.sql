{#-
  How an indicator family declares itself (one file per family in this folder, one macro
  `indicator_<family>` per file, called by the registry with the parameters that
  `vars.indicators` gives it). A family returns indicator_declaration(...): its output columns and
  what the engine (macros/technical_indicators.sql) must compute for them, stage by stage. Every
  SQL fragment is a select-list expression over the columns the stage before it provides (the
  engine's header lists the stages and their inputs). Names are global: two families that need the
  same quantity (the true range, the EMA 26, the Wilder gains) declare it under the same name with
  the same SQL, usually through a shared part (`parts`), and the engine computes it once; the same
  name with different SQL is an error.
-#}

{% macro indicator_declaration(
    columns=none, parts=none, lookback=0, reach=0, steps=none, terms=none, running_sums=none,
    seed_sums=none, means_of_close=none, windows=none, scans=none, state=none, reads_back=none,
    recursions=none, derived=none, after_pass=none, series=none, checks=none, notes='',
    arguments=none
) %}
    {#- columns: indicator_column(...) entries, in the order the marts show them.
        lookback: bars a symbol must have stored before an incremental run may continue it (its
          seeds are behind it; default: the latest first bar of its columns).
        reach: stored rows before the first changed bar that its window expressions read.
        steps: {name: SQL} over the bar's inputs and their lags (one window pass for all).
        terms: {name: SQL} per bar, over the steps (no window).
        running_sums: {name: term} sums from the first bar, stored and continued by an incremental
          run from the carried row (running_close, the centred close, is always there).
        seed_sums: {name: term} sums from the first bar that only seeds read (never stored).
        means_of_close: periods p of the moving means mean_close_p (differences of running_close).
        windows: {name: SQL} over the running sums, steps and terms: lags and frames (one pass).
        scans: {name: SQL} over the windows: their lags and the ordered scans (one pass).
        state: {name: SQL} stored per row and read back as stored_<name> by the next run.
        reads_back: output columns read back from the carried row as stored_<name>.
        recursions: indicator_recursion(...) entries: linear recurrences e = a e' + u.
        derived: {pass: [{name: SQL}, ...]} after recursion pass `pass`, layer by layer.
        after_pass: {pass: {name: SQL}} window expressions after pass `pass` (one pass).
        series: {name: k} values from the recursion side whose last k values the next run needs
          (stored; <name>_lag_1 .. <name>_lag_k are given after the pass that computes them).
        checks: SQL conditions every row of the marts meets (their ranges: dbt tests).
        notes: TA-Lib's definition and quirks, for the docs.
        arguments: {name: description} of the family macro's arguments (its generated macro
          docs, macros/indicators/_families__macros.yml). -#}
    {%- set declaration = {
        'columns': [], 'lookback': lookback, 'reach': reach, 'steps': {}, 'terms': {},
        'running_sums': {}, 'seed_sums': {}, 'means_of_close': [], 'windows': {}, 'scans': {},
        'state': {}, 'reads_back': [], 'recursions': [], 'derived': {}, 'after_pass': {},
        'series': {}, 'checks': [], 'notes': notes, 'arguments': arguments or {},
    } -%}
    {%- for part in (parts or []) + [{
        'columns': columns or [], 'steps': steps or {}, 'terms': terms or {},
        'running_sums': running_sums or {}, 'seed_sums': seed_sums or {},
        'means_of_close': means_of_close or [], 'windows': windows or {}, 'scans': scans or {},
        'state': state or {}, 'reads_back': reads_back or [], 'recursions': recursions or [],
        'derived': derived or {}, 'after_pass': after_pass or {}, 'series': series or {},
        'checks': checks or [],
    }] -%}
        {%- do indicator_merge(declaration, part) -%}
    {%- endfor -%}
    {%- for column in declaration.columns if column.first_bar > declaration.lookback -%}
        {%- do declaration.update({'lookback': column.first_bar}) -%}
    {%- endfor -%}
    {{ return(declaration) }}
{% endmacro %}

{% macro indicator_column(name, first_bar, value, talib, description, tolerance='relative', recursive=false) %}
    {#- One output column: null before `first_bar`, `value` from it on. `value` is computed after
        the recurrences when `recursive`, else with the window expressions. `talib`: TA-Lib's call
        for the same column, {'function': 'RSI', 'inputs': ['close'], 'parameters': {...}} plus
        'output' (its output name) for multi-output functions (bench/indicators.py calls it).
        `tolerance`: how far from TA-Lib it may be (indicator_tolerances()). -#}
    {{ return({'name': name, 'first_bar': first_bar, 'value': value, 'talib': talib,
               'description': description, 'tolerance': tolerance, 'recursive': recursive}) }}
{% endmacro %}

{% macro indicator_recursion(name, decay, pass, impulse) %}
    {#- A linear recurrence q = decay * q' + impulse, evaluated by linear_recurrences in recursion
        pass `pass` (1: from the window side; n > 1: from the values of pass n - 1). The seed enters
        as the impulse on the seed bar (ti_impulse). Its value is the column `name` from then on;
        its state (state_<name>_prefix, state_<name>_anchor) is stored for the next run. -#}
    {{ return({'name': name, 'decay': decay, 'pass': pass, 'impulse': impulse}) }}
{% endmacro %}

{% macro indicator_merge(into, part) %}
    {#- Adds a part's declarations to `into`: lists are appended, mappings merged by name (the same
        name must carry the same SQL), reach and lookback take the larger. -#}
    {%- for key in ['steps', 'terms', 'running_sums', 'seed_sums', 'windows', 'scans', 'state'] -%}
        {%- do indicator_merge_named(into[key], part.get(key, {}), key) -%}
    {%- endfor -%}
    {%- for p in part.get('means_of_close', []) if p not in into.means_of_close -%}
        {%- do into.means_of_close.append(p) -%}
    {%- endfor -%}
    {%- for key in ['reads_back', 'checks'] -%}
        {%- for item in part.get(key, []) if item not in into[key] -%}
            {%- do into[key].append(item) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do into.columns.extend(part.get('columns', [])) -%}
    {%- for q in part.get('recursions', []) -%}
        {%- set known = into.recursions | selectattr('name', 'equalto', q.name) | list -%}
        {%- if not known -%}
            {%- do into.recursions.append(q) -%}
        {%- elif known[0] != q -%}
            {%- do exceptions.raise_compiler_error('indicator recursion ' ~ q.name ~ ' is declared twice, differently') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in ['derived', 'after_pass'] -%}
        {%- for pass, declared in part.get(key, {}).items() -%}
            {%- if pass not in into[key] -%}{%- do into[key].update({pass: [] if key == 'derived' else {}}) -%}{%- endif -%}
            {%- if key == 'derived' -%}
                {%- for layer in declared -%}
                    {%- if into[key][pass] | length <= loop.index0 -%}{%- do into[key][pass].append({}) -%}{%- endif -%}
                    {%- do indicator_merge_named(into[key][pass][loop.index0], layer, key) -%}
                {%- endfor -%}
            {%- else -%}
                {%- do indicator_merge_named(into[key][pass], declared, key) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name, lags in part.get('series', {}).items() -%}
        {%- do into.series.update({name: [lags, into.series.get(name, 0)] | max}) -%}
    {%- endfor -%}
    {%- for key in ['lookback', 'reach'] if part.get(key, 0) > into[key] -%}
        {%- do into.update({key: part[key]}) -%}
    {%- endfor -%}
{% endmacro %}

{% macro indicator_merge_named(into, named, stage) %}
    {%- for name, sql in named.items() -%}
        {%- if name in into and (into[name] | trim) != (sql | trim) -%}
            {%- do exceptions.raise_compiler_error('indicator ' ~ stage ~ ' ' ~ name ~ ' is declared twice, differently') -%}
        {%- endif -%}
        {%- do into.update({name: sql}) -%}
    {%- endfor -%}
{% endmacro %}
