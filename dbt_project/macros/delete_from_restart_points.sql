{#-
  Pre-hook for incremental models keyed finer than a bar (e.g. one row per signal): delete each
  changed symbol's rows from its first changed bar, so a restated day that no longer has a row
  loses the old one; the model then inserts the recomputed rows.
-#}
{% macro delete_from_restart_points(upstream) %}
    {% if is_incremental() %}
    delete from {{ this }} as stored
    using ({{ incremental_restart_points(upstream, this) }}) as restarts
    where stored.symbol = restarts.symbol and stored.trade_date >= restarts.restart_date
    {% endif %}
{% endmacro %}
