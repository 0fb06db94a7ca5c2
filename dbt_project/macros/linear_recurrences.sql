{#-
  Evaluate first-order linear recurrences  e[s] = a * e[s-1] + u[s]  for several quantities at
  once, exactly and without a row-by-row loop.

  EMA (u = k*x, a = 1 - k), Wilder's smoothing (k = 1/n) and TA-Lib's seeding (the seed enters as
  an impulse u = seed on the seed bar, u = 0 before it) all have this form.

  Blocks of `block_size` steps are aligned on the absolute step s (the bar number): block(s) =
  floor((s - 1) / B), position p = s - B * block(s) in 1..B. Within a block, with P = the running
  sum of u[q] * a^-q over the block's rows and A = e at the end of the previous block,
      e[s] = a^p * P[s] + a^p * A.
  Every quantity's P is one window sum and they all share one sort; anchors follow
  A' = a^B * A + a^B * P[block end], an affine scan over one row per block (udf.affine_scan).
  Because the blocks are aligned on the absolute step and P, A are carried per row, a run that
  starts from a stored row performs exactly the same floating-point operations as a run from the
  first bar: incremental results are bit-identical to a full refresh.

  relation: a CTE with columns symbol, step (absolute, consecutive per symbol), and per quantity q:
    q_impulse  u[s]
    q_prefix0  P at the row before the symbol's first row here (0 when starting from bar 1)
    q_anchor0  A of that row's block (0 when starting from bar 1)
  and state_step (the step of that row: first step - 1), constant per symbol.
  Returns all columns of `relation` plus, per quantity, q (the value), q_prefix and q_anchor (state
  to carry). Requires a >= 0.55 (a^-B stays finite for B = 1024).
-#}
{% macro ti_block(step, B) -%}(({{ step }}) + {{ B - 1 }}) / {{ B }} - 1{%- endmacro %}
{% macro ti_position(step, B) -%}(({{ step }}) - {{ B }} * ({{ ti_block(step, B) }})){%- endmacro %}

{% macro linear_recurrences(relation, quantities, block_size=1024) %}
    {%- set B = block_size -%}
    {%- set tag = '_' ~ relation -%}
    with

    {{ tag }}_terms as (
        select
            r.*,
            {{ ti_block('r.step', B) }} as {{ tag }}_block,
            {{ ti_position('r.step', B) }} as {{ tag }}_position,
            {%- for q in quantities %}
            r.{{ q.name }}_impulse * power({{ q.decay }}, -{{ ti_position('r.step', B) }})
                -- the carried prefix joins the sum on the first row, as the next term would
                + case
                    when r.step = r.state_step + 1
                         and {{ ti_block('r.step', B) }} = {{ ti_block('r.state_step', B) }}
                    then r.{{ q.name }}_prefix0 else 0
                end as {{ q.name }}_term{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }} as r
    ),

    {{ tag }}_within as (
        select
            *,
            {%- for q in quantities %}
            sum({{ q.name }}_term) over in_block as {{ q.name }}_prefix{{ "," if not loop.last }}
            {%- endfor %}
        from {{ tag }}_terms
        window in_block as (
            partition by symbol, {{ tag }}_block order by step rows unbounded preceding
        )
    ),

    {{ tag }}_block_ends as (
        -- blocks that end inside this run ...
        select
            symbol,
            {{ tag }}_block as ended_block,
            {%- for q in quantities %}
            {{ q.name }}_anchor0,
            power({{ q.decay }}, {{ B }}) * {{ q.name }}_prefix as {{ q.name }}_end
                {{- "," if not loop.last }}
            {%- endfor %}
        from {{ tag }}_within
        where {{ tag }}_position = {{ B }}
        union all
        -- ... and the carried row's block, when that row was the last of its block
        select distinct
            symbol,
            {{ ti_block('state_step', B) }},
            {%- for q in quantities %}
            {{ q.name }}_anchor0,
            power({{ q.decay }}, {{ B }}) * {{ q.name }}_prefix0{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        where {{ ti_position('state_step', B) }} = {{ B }}
    ),

    {{ tag }}_anchors as (
        select
            symbol,
            ended_block + 1 as {{ tag }}_block,
            {%- for q in quantities %}
            udf.affine_scan(power({{ q.decay }}, {{ B }}), {{ q.name }}_end, {{ q.name }}_anchor0)
                over (partition by symbol order by ended_block) as {{ q.name }}_scan
                {{- "," if not loop.last }}
            {%- endfor %}
        from {{ tag }}_block_ends
    )

    select
        within.*,
        {%- for q in quantities %}
        power({{ q.decay }}, within.{{ tag }}_position) * within.{{ q.name }}_prefix
            + power({{ q.decay }}, within.{{ tag }}_position)
              * coalesce(anchors.{{ q.name }}_scan, within.{{ q.name }}_anchor0)
            as {{ q.name }},
        coalesce(anchors.{{ q.name }}_scan, within.{{ q.name }}_anchor0) as {{ q.name }}_anchor
            {{- "," if not loop.last }}
        {%- endfor %}
    from {{ tag }}_within as within
    left join {{ tag }}_anchors as anchors
        on anchors.symbol = within.symbol and anchors.{{ tag }}_block = within.{{ tag }}_block
{% endmacro %}
