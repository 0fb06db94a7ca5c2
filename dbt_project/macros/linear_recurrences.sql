{#-
  Evaluate first-order linear recurrences  e[s] = a * e[s-1] + u[s]  for several quantities at
  once, exactly and without a row-by-row loop.

  EMA (u = k*x, a = 1 - k), Wilder's smoothing (k = 1/n) and TA-Lib's seeding (the seed enters as
  an impulse u = seed on the seed bar, u = 0 before it) all have this form.

  Blocks of `block_size` steps are aligned on the absolute step s (the bar number): block(s) =
  floor((s - 1) / B), position p = s - B * block(s) in 1..B. Within a block, with P = the running
  sum of u[q] * a^-q over the block's rows and A = e at the end of the previous block,
      e[s] = a^p * P[s] + a^p * A.
  P is one window sum per quantity; A follows A' = A * a^B + a^B * P[block end], evaluated as a
  filtered running aggregate (udf.affine_scan) over the block ends before the row (B = 512). Both windows
  and the caller's share one sort order (symbol, block, step). Because the blocks are aligned on
  the absolute step and P, A are carried, a run that starts from a stored row performs exactly
  the floating-point operations of a run from the first bar: incremental is bit-identical.

  relation: columns symbol, <step> (absolute, consecutive per symbol), <block> (= block(step)),
    and per quantity q: q_impulse (u); when `carried`, also state_step (the carried row's step:
    first step - 1) and q_prefix0, q_anchor0 (P and A of the carried row). Without `carried` (a
    run from bar 1) those are 0, and the expressions reduce to the same arithmetic.
  Returns the relation's columns plus, per quantity: q (the value), q_prefix and q_anchor (state).
  Requires a > 0.25 (a^-B stays finite for B = 512; ADOSC's fast EMA has a = 0.5).
-#}
{% macro recurrence_block(step, B=512) -%}(({{ step }}) + {{ B - 1 }}) / {{ B }} - 1{%- endmacro %}
{% macro recurrence_position(step, B=512) -%}
    (({{ step }}) - {{ B }} * ({{ recurrence_block(step, B) }}))
{%- endmacro %}

{% macro linear_recurrences(relation, quantities, block='ti_block', step='step', carried=true, block_size=512) %}
    {%- set B = block_size -%}
    {%- set pos = relation ~ '_position' -%}
    select
        scanned.*,
        {%- for q in quantities %}
        power({{ q.decay }}, {{ pos }}) * {{ q.name }}_prefix
            + power({{ q.decay }}, {{ pos }}) * {{ q.name }}_anchor
            as {{ q.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            within.*,
            {%- for q in quantities %}
            coalesce(
                udf.affine_scan(power({{ q.decay }}, {{ B }}),
                                power({{ q.decay }}, {{ B }}) * {{ q.name }}_prefix,
                                {{ q.name }}_first_anchor)
                    filter (where {{ pos }} = {{ B }}) over before_row,
                {{ q.name }}_first_anchor
            ) as {{ q.name }}_anchor{{ "," if not loop.last }}
            {%- endfor %}
        from (
            select
                terms.*,
                {%- for q in quantities %}
                sum({{ q.name }}_term) over in_block as {{ q.name }}_prefix
                    {{- "," if not loop.last }}
                {%- endfor %}
            from (
                select
                    r.*,
                    {{ recurrence_position('r.' ~ step, B) }} as {{ pos }},
                    {%- for q in quantities %}
                    r.{{ q.name }}_impulse * power({{ q.decay }}, -{{ recurrence_position('r.' ~ step, B) }})
                    {%- if carried %}
                        -- the carried prefix joins the sum on the first row, as the next term would
                        + case
                            when r.{{ step }} = r.state_step + 1
                                 and r.{{ block }} = {{ recurrence_block('r.state_step', B) }}
                            then r.{{ q.name }}_prefix0 else 0
                        end
                    {%- endif %} as {{ q.name }}_term,
                    {%- if carried %}
                    -- the anchor of the first block here: the carried one, rolled over if the
                    -- carried row ended its block
                    case
                        when {{ recurrence_position('r.state_step', B) }} = {{ B }}
                        then r.{{ q.name }}_anchor0 * power({{ q.decay }}, {{ B }})
                             + power({{ q.decay }}, {{ B }}) * r.{{ q.name }}_prefix0
                        else r.{{ q.name }}_anchor0
                    end
                    {%- else %}
                    0::float8
                    {%- endif %} as {{ q.name }}_first_anchor{{ "," if not loop.last }}
                    {%- endfor %}
                from {{ relation }} as r
            ) as terms
            window in_block as (
                partition by symbol, {{ block }} order by {{ step }} rows unbounded preceding
            )
        ) as within
        window before_row as (
            partition by symbol order by {{ block }}, {{ step }}
            rows between unbounded preceding and 1 preceding
        )
    ) as scanned
{% endmacro %}
