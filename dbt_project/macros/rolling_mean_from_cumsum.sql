{#-
  Mean of the last n rows from a running sum: (S[t] - S[t-n]) / n. O(rows), where a float8
  moving-frame avg() re-scans its frame for every row. Needs a window named `bars` ordered in
  time; the caller masks rows with fewer than n values.
-#}
{% macro rolling_mean_from_cumsum(running_sum, n) -%}
    (({{ running_sum }}) - coalesce(lag({{ running_sum }}, {{ n }}) over bars, 0)) / {{ n }}
{%- endmacro %}
