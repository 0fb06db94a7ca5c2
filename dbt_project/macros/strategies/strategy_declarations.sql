{#-
  The declarations: var('signals') (marts.fct_signals) and var('strategies') (the strategy marts)
  in dbt_project.yml, read, checked and normalised here. Every model that uses them calls these
  macros, so a bad declaration fails `dbt parse` (and compile) with a message naming the signal
  or strategy and the unknown option, value or column.
-#}

{%- macro strategy_model_version() -%}
    {#- part of every strategy's fingerprint: bump when the simulation's arithmetic changes -#}
    {{ return('1') }}
{%- endmacro -%}

{%- macro strategy_name_pattern() -%}{{ return('^[a-z][a-z0-9_]{0,62}$') }}{%- endmacro -%}
{%- macro strategy_symbol_pattern() -%}{{ return('^\\^?[A-Z0-9][A-Z0-9.=-]{0,19}$') }}{%- endmacro -%}

{%- macro strategy_check_keys(where, declared, allowed) -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error(where ~ ": expected a mapping of options (" ~ allowed | join(', ') ~ "), got " ~ declared) }}
    {%- endif -%}
    {%- for key in declared if key not in allowed -%}
        {{ exceptions.raise_compiler_error(where ~ ": unknown option '" ~ key ~ "' (options: " ~ allowed | join(', ') ~ ")") }}
    {%- endfor -%}
{%- endmacro -%}

{%- macro strategy_choice(where, value, choices) -%}
    {%- if value not in choices -%}
        {{ exceptions.raise_compiler_error(where ~ ": '" ~ value ~ "' is not one of " ~ choices | join(', ')) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}

{%- macro strategy_number(where, value, minimum=none, strictly=false, integer=false) -%}
    {%- if value is boolean or value is not number -%}
        {{ exceptions.raise_compiler_error(where ~ ": expected a number, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- if integer and value != value | int -%}
        {{ exceptions.raise_compiler_error(where ~ ": expected a whole number, got " ~ value) }}
    {%- endif -%}
    {%- if minimum is not none and (value < minimum or (strictly and value == minimum)) -%}
        {{ exceptions.raise_compiler_error(where ~ ": " ~ value ~ " must be " ~ ("above " if strictly else "at least ") ~ minimum) }}
    {%- endif -%}
    {{ return(value | int if integer else value) }}
{%- endmacro -%}

{%- macro strategy_date(where, value) -%}
    {%- if value is none -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(where ~ ": '" ~ text ~ "' is not a date (YYYY-MM-DD)") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro -%}

{#- var('signals') as a list of {name, direction, when, value, columns, lags}, in declaration order -#}
{%- macro signal_declarations() -%}
    {%- set declared = var('signals', {}) -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error("var('signals') must map signal names to {when, direction, value}") }}
    {%- endif -%}
    {%- set out = [] -%}
    {%- for name, spec in declared.items() -%}
        {%- set where = "signal '" ~ name ~ "'" -%}
        {%- if not modules.re.match(strategy_name_pattern(), name | string) -%}
            {{ exceptions.raise_compiler_error(where ~ ": a signal name is lower-case letters, digits and _") }}
        {%- endif -%}
        {%- do strategy_check_keys(where, spec, ['when', 'direction', 'value', 'description']) -%}
        {%- for key in ['when', 'direction', 'value'] if spec.get(key) is none -%}
            {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is required") }}
        {%- endfor -%}
        {%- set when = compile_rule(spec['when'], where ~ ", when") -%}
        {%- set value = compile_rule(spec['value'], where ~ ", value") -%}
        {%- set columns = when.columns -%}
        {%- for c in value.columns if c not in columns -%}{%- do columns.append(c) -%}{%- endfor -%}
        {%- set lags = when.lags -%}
        {%- for c in value.lags if c not in lags -%}{%- do lags.append(c) -%}{%- endfor -%}
        {#- fct_signals reads the indicator engine's rows: the indicators and close, high, low, volume -#}
        {%- for c in columns if c not in indicator_columns() and c not in ['close', 'high', 'low', 'volume', 'bar_number', 'symbol', 'trade_date'] -%}
            {{ exceptions.raise_compiler_error(where ~ ": column '" ~ c ~ "' is not available to a signal (a signal reads the indicator columns and close, high, low, volume, bar_number; a strategy rule may read every column of fct_daily_bars)") }}
        {%- endfor -%}
        {%- do out.append({
            'name': name,
            'direction': strategy_choice(where ~ ", direction", spec['direction'], ['bullish', 'bearish']),
            'when': when.sql,
            'value': value.sql,
            'columns': columns,
            'lags': lags,
            'description': spec.get('description', ''),
        }) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro -%}

{#- the universe option: all | [symbols] | {symbols: [...]} | {first_of: [...]} | {where: rule} -#}
{%- macro strategy_universe(where, declared, signals) -%}
    {%- if declared is none or declared == 'all' -%}
        {{ return({'kind': 'all'}) }}
    {%- endif -%}
    {%- if declared is string -%}
        {{ exceptions.raise_compiler_error(where ~ ": '" ~ declared ~ "' is not a universe (all, a list of symbols, {first_of: [...]} or {where: <rule>})") }}
    {%- endif -%}
    {%- if declared is not mapping -%}
        {%- set declared = {'symbols': declared} -%}
    {%- endif -%}
    {%- do strategy_check_keys(where, declared, ['symbols', 'first_of', 'where']) -%}
    {%- if declared | length != 1 -%}
        {{ exceptions.raise_compiler_error(where ~ ": give one of symbols, first_of or where") }}
    {%- endif -%}
    {%- for kind, value in declared.items() -%}
        {%- if kind == 'where' -%}
            {%- set rule = compile_rule(value, where ~ " where", signals) -%}
            {{ return({'kind': 'where', 'where': rule.sql, 'columns': rule.columns, 'lags': rule.lags}) }}
        {%- endif -%}
        {%- if value is string or value is not sequence or value | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ " " ~ kind ~ ": expected a non-empty list of symbols") }}
        {%- endif -%}
        {%- for symbol in value if not modules.re.match(strategy_symbol_pattern(), symbol | string) -%}
            {{ exceptions.raise_compiler_error(where ~ " " ~ kind ~ ": '" ~ symbol ~ "' is not a ticker (upper-case letters, digits, . - = and a leading ^)") }}
        {%- endfor -%}
        {{ return({'kind': kind, 'symbols': value | map('string') | list}) }}
    {%- endfor -%}
{%- endmacro -%}

{#-
  var('strategies') as a list of normalised declarations (declaration order), with the run's
  overrides (var backtest_start, backtest_end, backtest_cost_bps) applied. Each has: name,
  description, benchmark, universe {kind, symbols | where}, legs (long and/or short, each
  {side, entry, exit} as SQL), rank_by, priority (SQL or none), rebalance, execution, sizing
  {method, fraction, max_positions}, cost_bps, cost_per_trade, capital, start, end, columns and
  lags (the inputs the rules read), and fingerprint (md5 of all of it).
-#}
{%- macro strategy_declarations() -%}
    {%- set declared = var('strategies', {}) -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error("var('strategies') must map strategy names to their options") }}
    {%- endif -%}
    {%- set signals = {} -%}
    {%- for s in signal_declarations() -%}{%- do signals.update({s.name: s}) -%}{%- endfor -%}
    {%- set start = strategy_date("var('backtest_start')", var('backtest_start', none)) -%}
    {%- set end = strategy_date("var('backtest_end')", var('backtest_end', none)) -%}
    {%- if start and end and start > end -%}
        {{ exceptions.raise_compiler_error("backtest_start " ~ start ~ " is after backtest_end " ~ end) }}
    {%- endif -%}
    {%- set cost_override = var('backtest_cost_bps', none) -%}
    {%- if cost_override is not none -%}
        {%- set cost_override = strategy_number("var('backtest_cost_bps')", cost_override, 0) -%}
    {%- endif -%}
    {%- set options = ['description', 'universe', 'entry', 'exit', 'short_entry', 'short_exit',
                       'side', 'sizing', 'execution', 'costs', 'capital', 'rank_by', 'priority',
                       'rebalance', 'benchmark'] -%}
    {%- set out = [] -%}
    {%- for name, spec in declared.items() -%}
        {%- set where = "strategy '" ~ name ~ "'" -%}
        {%- if not modules.re.match(strategy_name_pattern(), name | string) -%}
            {{ exceptions.raise_compiler_error(where ~ ": a strategy name is lower-case letters, digits and _ (at most 63)") }}
        {%- endif -%}
        {%- do strategy_check_keys(where, spec, options) -%}
        {%- set side = strategy_choice(where ~ ", side", spec.get('side', 'long'), ['long', 'short', 'long_short']) -%}
        {%- set extra = [] -%}
        {%- set rank_by = none -%}
        {%- set columns = [] -%}
        {%- set lags = [] -%}
        {%- set compiled = [] -%}
        {%- if spec.get('rank_by') is not none -%}
            {%- set rank_by = compile_rule(spec['rank_by'], where ~ ", rank_by", signals) -%}
            {%- do compiled.append(rank_by) -%}
            {%- do extra.append('rank_pct') -%}
        {%- endif -%}
        {%- set universe = strategy_universe(where ~ ", universe", spec.get('universe', 'all'), signals) -%}
        {%- if universe.kind == 'where' -%}{%- do compiled.append(universe) -%}{%- endif -%}
        {%- set legs = [] -%}
        {%- set required = ['entry', 'exit'] + (['short_entry', 'short_exit'] if side == 'long_short' else []) -%}
        {%- for key in required if spec.get(key) is none -%}
            {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is required" ~ (" for side long_short" if key.startswith('short') else "")) }}
        {%- endfor -%}
        {%- for key in ['short_entry', 'short_exit'] if side != 'long_short' and spec.get(key) is not none -%}
            {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is only for side long_short (side " ~ side ~ " uses entry and exit)") }}
        {%- endfor -%}
        {%- set leg_rules = [('long' if side != 'short' else 'short', 'entry', 'exit')] -%}
        {%- if side == 'long_short' -%}{%- do leg_rules.append(('short', 'short_entry', 'short_exit')) -%}{%- endif -%}
        {%- for leg, entry_key, exit_key in leg_rules -%}
            {%- set entry = compile_rule(spec[entry_key], where ~ ", " ~ entry_key, signals, extra) -%}
            {%- set exit = compile_rule(spec[exit_key], where ~ ", " ~ exit_key, signals, extra) -%}
            {%- do compiled.append(entry) -%}
            {%- do compiled.append(exit) -%}
            {%- do legs.append({'side': leg, 'entry': entry.sql, 'exit': exit.sql}) -%}
        {%- endfor -%}
        {%- set priority = none -%}
        {%- if spec.get('priority') is not none -%}
            {%- set priority = compile_rule(spec['priority'], where ~ ", priority", signals, extra) -%}
            {%- do compiled.append(priority) -%}
        {%- endif -%}
        {%- for rule in compiled -%}
            {%- for c in rule.columns if c not in columns -%}{%- do columns.append(c) -%}{%- endfor -%}
            {%- for c in rule.lags if c not in lags -%}{%- do lags.append(c) -%}{%- endfor -%}
        {%- endfor -%}
        {%- set sizing_spec = spec.get('sizing', {'method': 'equal_weight'}) -%}
        {%- do strategy_check_keys(where ~ ", sizing", sizing_spec, ['method', 'fraction', 'max_positions']) -%}
        {%- set method = strategy_choice(where ~ ", sizing method", sizing_spec.get('method', 'equal_weight'), ['equal_weight', 'fixed_fraction']) -%}
        {%- set fraction = none -%}
        {%- if method == 'fixed_fraction' -%}
            {%- if sizing_spec.get('fraction') is none -%}
                {{ exceptions.raise_compiler_error(where ~ ", sizing: fixed_fraction needs 'fraction' (of equity per position)") }}
            {%- endif -%}
            {%- set fraction = strategy_number(where ~ ", sizing fraction", sizing_spec['fraction'], 0, strictly=true) -%}
        {%- elif sizing_spec.get('fraction') is not none -%}
            {{ exceptions.raise_compiler_error(where ~ ", sizing: 'fraction' is only for fixed_fraction (equal_weight divides equity among the open positions)") }}
        {%- endif -%}
        {%- set max_positions = none -%}
        {%- if sizing_spec.get('max_positions') is not none -%}
            {%- set max_positions = strategy_number(where ~ ", sizing max_positions", sizing_spec['max_positions'], 1, integer=true) -%}
            {%- if side == 'long_short' -%}
                {{ exceptions.raise_compiler_error(where ~ ", sizing: max_positions needs side long or short (a long_short strategy's legs are not capped)") }}
            {%- endif -%}
        {%- endif -%}
        {%- if priority is not none and max_positions is none -%}
            {{ exceptions.raise_compiler_error(where ~ ": 'priority' orders entries competing for max_positions; declare sizing max_positions") }}
        {%- endif -%}
        {%- set costs = spec.get('costs', {}) -%}
        {%- do strategy_check_keys(where ~ ", costs", costs, ['bps', 'per_trade']) -%}
        {%- set cost_bps = strategy_number(where ~ ", costs bps", costs.get('bps', 0), 0) -%}
        {%- set cost_per_trade = strategy_number(where ~ ", costs per_trade", costs.get('per_trade', 0), 0) -%}
        {%- set benchmark = spec.get('benchmark', false) -%}
        {%- if benchmark is not boolean -%}
            {{ exceptions.raise_compiler_error(where ~ ", benchmark: expected true or false") }}
        {%- endif -%}
        {%- if cost_override is not none and not benchmark -%}
            {%- set cost_bps = cost_override -%}
        {%- endif -%}
        {%- set strategy = {
            'name': name,
            'description': spec.get('description', '') | string,
            'benchmark': benchmark,
            'universe': universe,
            'legs': legs,
            'rank_by': rank_by.sql if rank_by else none,
            'priority': priority.sql if priority else none,
            'rebalance': strategy_choice(where ~ ", rebalance", spec.get('rebalance', 'daily'), ['daily', 'weekly', 'monthly']),
            'execution': strategy_choice(where ~ ", execution", spec.get('execution', 'next_open'), ['next_open', 'next_close']),
            'sizing': {'method': method, 'fraction': fraction, 'max_positions': max_positions},
            'cost_bps': cost_bps,
            'cost_per_trade': cost_per_trade,
            'capital': strategy_number(where ~ ", capital", spec.get('capital', 100000), 0, strictly=true),
            'start': start,
            'end': end,
            'columns': columns,
            'lags': lags,
        } -%}
        {%- do strategy.update({'fingerprint': local_md5(tojson(strategy, sort_keys=true) ~ '|' ~ strategy_model_version() ~ '|' ~ var('stale_after_sessions', 5))}) -%}
        {%- do out.append(strategy) -%}
    {%- endfor -%}
    {%- set names = out | map(attribute='name') | list -%}
    {%- set benchmark = var('strategy_benchmark', none) -%}
    {%- if benchmark is not none and benchmark not in names -%}
        {{ exceptions.raise_compiler_error("var('strategy_benchmark'): '" ~ benchmark ~ "' is not a declared strategy (" ~ names | join(', ') ~ ")") }}
    {%- endif -%}
    {%- for wanted in strategy_selection() if wanted not in names -%}
        {{ exceptions.raise_compiler_error("var('backtest_strategies'): unknown strategy '" ~ wanted ~ "' (declared: " ~ names | join(', ') ~ ")") }}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro -%}

{#- the strategies a run is asked to build (var backtest_strategies; [] = all) -#}
{%- macro strategy_selection() -%}
    {%- set wanted = var('backtest_strategies', none) -%}
    {%- if wanted is none -%}{{ return([]) }}{%- endif -%}
    {%- if wanted is string -%}{%- set wanted = wanted.split(',') | map('trim') | list -%}{%- endif -%}
    {{ return(wanted | map('string') | list) }}
{%- endmacro -%}

{%- macro strategy_by_name(name) -%}
    {%- for s in strategy_declarations() if s.name == name -%}{{ return(s) }}{%- endfor -%}
    {{ return(none) }}
{%- endmacro -%}
