{#-
  The one ordered step of a backtest that is not a window function: entries competing for a
  strategy's max_positions. udf.strategy_slots is an aggregate run as a window over a
  strategy's sessions in order; each row brings that session's exits and its entries (highest
  priority first). Its state is the symbols holding a slot: the exits free theirs, then each
  entry takes a free slot, in order, while there is one (an entry without a slot is skipped:
  the symbol stays flat until a later entry signal finds one). `initial` is the symbols holding
  slots before the first row (an incremental run starts from the stored book; a full run from
  none). The value at a session is the symbols holding slots after it.
  Created in schema `udf` by the project's on-run-start hook.
-#}
{% macro create_strategy_functions() %}
create schema if not exists udf;

create or replace function udf.strategy_slot_step(
    state text[], exits text[], entries text[], max_positions integer, initial text[]
)
returns text[] language plpgsql immutable parallel safe as $$
declare
    held text[] := coalesce(state, initial, '{}'::text[]);
    symbol text;
begin
    if exits is not null then
        foreach symbol in array exits loop
            held := array_remove(held, symbol);
        end loop;
    end if;
    if entries is not null then
        foreach symbol in array entries loop
            exit when cardinality(held) >= max_positions;
            if not symbol = any(held) then
                held := held || symbol;
            end if;
        end loop;
    end if;
    return held;
end
$$;

create or replace aggregate udf.strategy_slots(text[], text[], integer, text[]) (
    sfunc = udf.strategy_slot_step, stype = text[]
);
{% endmacro %}
