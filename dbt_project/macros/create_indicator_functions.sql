{#-
  Small aggregates. The recurrence macro needs: an affine scan, state := state * m + c, starting
  from `initial`. It runs over block anchors only (one row per 512 bars), so its cost is nil.
  udf.kama_scan is the ordered scan of KAMA's time-varying smoothing (one step per bar).
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

-- talib.KAMA's step, in its order of operations: kama := (x - kama) * sc + kama, from `initial`
create or replace function udf.kama_step(state float8, x float8, sc float8, initial float8)
returns float8 language plpgsql immutable parallel safe as $$
begin
    if state is null then
        state := initial;
    end if;
    return ((x - state) * sc) + state;
end
$$;

create or replace aggregate udf.kama_scan(float8, float8, float8) (
    sfunc = udf.kama_step, stype = float8
);

-- talib.SAR's step (Parabolic SAR, TA-Lib's order of operations). State: {is_long, sar (the next
-- bar's), ep, af, high, low (this bar's), output}. The first bar is only remembered; the second
-- takes its direction from MINUS_DM(1) of the two bars (short when positive) and its initial SAR
-- from the first bar's low (long) or high (short), with TA-Lib's first-iteration "previous bar" =
-- the second bar itself. `carried` (the stored state of the bar before, with its high and low)
-- starts a scan in the middle of a series.
create or replace function udf.sar_step(
    state float8[], high float8, low float8, acceleration float8, maximum float8,
    carried float8[]
)
returns float8[] language plpgsql immutable parallel safe as $$
declare
    is_long boolean;
    sar float8;
    ep float8;
    af float8;
    prev_high float8;
    prev_low float8;
    output float8;
begin
    if state is null and carried is not null then
        state := carried;
    end if;
    if state is null then
        return array[null, null, null, null, high, low, null]::float8[];
    end if;
    if state[1] is null then
        is_long := not (state[6] - low > 0 and high - state[5] < state[6] - low);
        if is_long then
            ep := high;
            sar := state[6];
        else
            ep := low;
            sar := state[5];
        end if;
        af := acceleration;
        prev_high := high;
        prev_low := low;
    else
        is_long := state[1] = 1;
        sar := state[2];
        ep := state[3];
        af := state[4];
        prev_high := state[5];
        prev_low := state[6];
    end if;
    if is_long then
        if low <= sar then
            is_long := false;
            sar := greatest(ep, prev_high, high);
            output := sar;
            af := acceleration;
            ep := low;
            sar := greatest(sar + af * (ep - sar), prev_high, high);
        else
            output := sar;
            if high > ep then
                ep := high;
                af := least(af + acceleration, maximum);
            end if;
            sar := least(sar + af * (ep - sar), prev_low, low);
        end if;
    elsif high >= sar then
        is_long := true;
        sar := least(ep, prev_low, low);
        output := sar;
        af := acceleration;
        ep := high;
        sar := least(sar + af * (ep - sar), prev_low, low);
    else
        output := sar;
        if low < ep then
            ep := low;
            af := least(af + acceleration, maximum);
        end if;
        sar := greatest(sar + af * (ep - sar), prev_high, high);
    end if;
    return array[case when is_long then 1 else 0 end, sar, ep, af, high, low, output]::float8[];
end
$$;

create or replace aggregate udf.sar_scan(float8, float8, float8, float8, float8[]) (
    sfunc = udf.sar_step, stype = float8[]
);

-- exact product of numerics (split ratios)
create or replace aggregate udf.product(numeric) (sfunc = numeric_mul, stype = numeric);
{% endmacro %}
