{#-
  For an incremental model over `relation` (with symbol, trade_date, source_loaded_at): per
  symbol, the first trade_date that changed since the model last saw its input - new bars, a
  restated bar, or (through source_loaded_at) a new corporate action, which restates the whole
  symbol. Symbols absent from the result are untouched.
-#}
{% macro incremental_restart_points(relation, this_relation) %}
    select symbol, min(trade_date) as restart_date
    from {{ relation }}
    where source_loaded_at > (
        select coalesce(max(source_loaded_at), '-infinity'::timestamptz) from {{ this_relation }}
    )
    group by symbol
{% endmacro %}
