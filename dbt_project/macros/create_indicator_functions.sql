{#-
  Recursive smoothing cannot be a plain window aggregate, so two small aggregates carry TA-Lib's
  recursions exactly (Classic mode), used as window functions over `rows unbounded preceding`:

  udf.talib_ema(x, n)       EMA seeded with the SMA of the first n non-null x, then
                            ema = (x - ema) * k + ema with k = 2 / (n + 1)   (TA_EMA / TA_MACD)
  udf.wilder_average(x, n)  seeded the same way, then avg = (avg * (n - 1) + x) / n  (TA_RSI, TA_ATR)

  Null inputs are skipped (they neither count towards the seed nor move the average); the
  result is null until n values have been seen. The operation order matches TA-Lib's C code.
-#}
{% macro create_indicator_functions() %}
create schema if not exists udf;

create or replace function udf.ema_state_step(state float8[], x float8, n integer, wilder boolean)
returns float8[] language plpgsql immutable parallel safe as $fn$
begin
    if x is null then
        return state;
    end if;
    if state is null then
        state := array[0, 0, null]::float8[];     -- values seen, seed sum, average
    end if;
    if state[1] < n then
        state[1] := state[1] + 1;
        state[2] := state[2] + x;
        if state[1] = n then
            state[3] := state[2] / n;
        end if;
    elsif wilder then
        state[3] := (state[3] * (n - 1) + x) / n;
    else
        state[3] := (x - state[3]) * (2.0::float8 / (n + 1)) + state[3];
    end if;
    return state;
end
$fn$;

create or replace function udf.talib_ema_step(state float8[], x float8, n integer)
returns float8[] language sql immutable parallel safe
return udf.ema_state_step(state, x, n, false);

create or replace function udf.wilder_average_step(state float8[], x float8, n integer)
returns float8[] language sql immutable parallel safe
return udf.ema_state_step(state, x, n, true);

create or replace function udf.ema_state_value(state float8[])
returns float8 language sql immutable parallel safe
return state[3];

create or replace aggregate udf.talib_ema(float8, integer) (
    sfunc = udf.talib_ema_step, stype = float8[], finalfunc = udf.ema_state_value
);

create or replace aggregate udf.wilder_average(float8, integer) (
    sfunc = udf.wilder_average_step, stype = float8[], finalfunc = udf.ema_state_value
);
{% endmacro %}
