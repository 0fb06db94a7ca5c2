{#-
  Rules: SQL boolean (or numeric) expressions over the columns a strategy or a signal may read,
  checked when dbt parses the project. An expression may name
    - the columns of marts.fct_daily_bars listed in strategy_bar_columns() and the indicator
      columns of the registry (indicator_columns()), as of the signal day;
    - previous_<column>: the same column on the symbol's previous bar;
    - a signal declared in var('signals') (true on the days it fires), in strategy rules only;
    - rank_pct, where the strategy declares rank_by;
    - SQL operators, literals and plain functions (abs, least, coalesce, ...).
  No subquery, window or aggregate: a rule sees one row (and the previous bar) and nothing later,
  so it cannot look ahead. An unknown name fails `dbt parse` with the strategy (or signal), the
  rule and the name.
-#}

{%- macro strategy_bar_columns() -%}
    {{ return(['open', 'high', 'low', 'close', 'volume', 'simple_return', 'log_return',
               'previous_close', 'total_return_close', 'dividend_factor', 'split_factor',
               'bar_number']) }}
{%- endmacro -%}

{#- the words a rule may use that are not columns (lower case) -#}
{%- macro strategy_rule_keywords() -%}
    {{ return(['and', 'or', 'not', 'is', 'null', 'true', 'false', 'between', 'in', 'like',
               'ilike', 'case', 'when', 'then', 'else', 'end', 'distinct', 'from', 'symmetric',
               'unknown', 'isnull', 'notnull', 'escape', 'similar', 'to']) }}
{%- endmacro -%}

{#- functions a rule may not call: they read other rows -#}
{%- macro strategy_rule_denied_functions() -%}
    {{ return(['lag', 'lead', 'first_value', 'last_value', 'nth_value', 'max', 'min', 'sum',
               'avg', 'count', 'stddev', 'variance', 'rank', 'percent_rank', 'row_number',
               'dense_rank', 'ntile', 'cume_dist', 'array_agg', 'string_agg', 'random',
               'nextval', 'setval', 'now', 'current_date', 'clock_timestamp', 'pg_sleep']) }}
{%- endmacro -%}

{#-
  Check `expression` (declared at `where`, e.g. "strategy 'x', entry") and expand it:
  returns {'sql': the SQL to evaluate (signals expanded), 'columns': input columns read,
  'lags': columns read as previous_<column>}. `signals`: {name: compiled signal} that may be
  named; `extra`: further names allowed (e.g. ['rank_pct']).
-#}
{%- macro compile_rule(expression, where, signals={}, extra=[]) -%}
    {%- if expression is boolean -%}
        {%- set expression = 'true' if expression else 'false' -%}
    {%- elif expression is none or expression is mapping or (expression is sequence and expression is not string) -%}
        {{ exceptions.raise_compiler_error(where ~ ": expected an SQL expression, got " ~ expression) }}
    {%- endif -%}
    {%- set text = expression | string -%}
    {%- if text | trim == '' -%}
        {{ exceptions.raise_compiler_error(where ~ ": the rule is empty") }}
    {%- endif -%}
    {%- for bad in [';', '--', '/*', '"', '$$'] if bad in text -%}
        {{ exceptions.raise_compiler_error(where ~ ": " ~ bad ~ " is not allowed in a rule: " ~ text) }}
    {%- endfor -%}
    {%- set bars = strategy_bar_columns() -%}
    {%- set indicators = indicator_columns() -%}
    {%- set keywords = strategy_rule_keywords() -%}
    {%- set denied = strategy_rule_denied_functions() -%}
    {%- set columns = [] -%}
    {%- set lags = [] -%}
    {%- set used_signals = [] -%}
    {#- string literals cannot name columns; numbers like 1e5 are not identifiers -#}
    {%- set scanned = modules.re.sub("'(?:[^']|'')*'", "''", text) -%}
    {%- for cast, name, call in modules.re.findall("(::\\s*)?(?<![0-9.])\\b([A-Za-z_][A-Za-z0-9_]*)(\\s*\\()?", scanned) -%}
        {%- set word = name | lower -%}
        {%- if cast -%}
            {#- a type name after :: -#}
        {%- elif call -%}
            {%- if word in denied or word in ['select', 'over'] -%}
                {{ exceptions.raise_compiler_error(where ~ ": " ~ name ~ "() reads other rows; a rule sees its own row and previous_<column> (cross-sections: rank_by and rank_pct)") }}
            {%- endif -%}
        {%- elif word in keywords -%}
        {%- elif word in bars or word in indicators or word in ['symbol', 'trade_date'] -%}
            {%- if word not in columns -%}{%- do columns.append(word) -%}{%- endif -%}
        {%- elif word.startswith('previous_') and (word[9:] in bars or word[9:] in indicators) -%}
            {%- if word[9:] not in columns -%}{%- do columns.append(word[9:]) -%}{%- endif -%}
            {%- if word[9:] not in lags -%}{%- do lags.append(word[9:]) -%}{%- endif -%}
        {%- elif word in signals -%}
            {%- if word not in used_signals -%}{%- do used_signals.append(word) -%}{%- endif -%}
        {%- elif word in extra -%}
        {%- else -%}
            {%- set allowed = ['the columns of fct_daily_bars (' ~ bars | join(', ') ~ ')',
                               'the indicator columns (' ~ indicators | join(', ') ~ ')',
                               'previous_<column>'] -%}
            {%- if signals -%}{%- do allowed.append('the signals (' ~ signals.keys() | list | join(', ') ~ ')') -%}{%- endif -%}
            {%- if extra -%}{%- do allowed.append(extra | join(', ')) -%}{%- endif -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown column '" ~ name ~ "' in `" ~ text ~ "`; a rule may name " ~ allowed | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set ns = namespace(sql=text) -%}
    {%- for name in used_signals -%}
        {%- set signal = signals[name] -%}
        {%- set ns.sql = modules.re.sub("(?<![A-Za-z0-9_'])" ~ name ~ "(?![A-Za-z0-9_'])", "(" ~ signal.when ~ ")", ns.sql) -%}
        {%- for c in signal.columns if c not in columns -%}{%- do columns.append(c) -%}{%- endfor -%}
        {%- for c in signal.lags if c not in lags -%}{%- do lags.append(c) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return({'sql': ns.sql, 'columns': columns, 'lags': lags}) }}
{%- endmacro -%}
