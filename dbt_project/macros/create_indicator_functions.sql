{#-
  Two tiny aggregates. The recurrence macro needs: an affine scan, state := state * m + c, starting
  from `initial`. It runs over block anchors only (one row per 1024 bars), so its cost is nil.
  udf.product multiplies split ratios exactly. Created in schema `udf` by the project's on-run-start hook.
-#}
{% macro create_indicator_functions() %}
create schema if not exists udf;

create or replace function udf.affine_scan_step(
    state float8, multiplier float8, increment float8, initial float8
)
returns float8 language sql immutable parallel safe
return coalesce(state, initial) * multiplier + increment;

create or replace aggregate udf.affine_scan(float8, float8, float8) (
    sfunc = udf.affine_scan_step, stype = float8
);

-- exact product of numerics (split ratios)
create or replace aggregate udf.product(numeric) (sfunc = numeric_mul, stype = numeric);
{% endmacro %}
