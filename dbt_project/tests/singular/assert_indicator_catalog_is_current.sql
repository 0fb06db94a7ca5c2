{#-
  The indicator catalogue (seeds/golden/talib_golden_columns.csv) is what the Python side reads:
  each output column's TA-Lib call, first bar and tolerance, for the TA-Lib tests, the benchmark,
  the generated YAML and docs and the golden rows. It must say what the families declare
  (macros/indicators/, indicator_catalog()); its order (the marts') is checked by the integration
  tests. Rows returned are differences: run
  `python -m bench.columns` and `python -m bench.golden`.
-#}

{%- set fields = ['column_name', 'family', 'first_bar', 'talib', 'relative_tolerance',
                   'absolute_tolerance', 'tolerance_scale', 'description', 'notes', 'checks',
                   'arguments'] %}

with

declared as (

    select * from (
        values
        {% for row in indicator_catalog() %}
            (
                {% for field in fields %}
                    '{{ row[field] | string | replace("'", "''") }}'{{ "," if not loop.last }} -- noqa: LT05
                {% endfor %}
            ){{ "," if not loop.last }}
        {% endfor %}
    ) as declared ({{ fields | join(', ') }})

),

committed as (

    -- a seed loads an empty field as null
    select
        column_name,
        family,
        first_bar,
        talib,
        relative_tolerance,
        absolute_tolerance,
        coalesce(tolerance_scale, '') as tolerance_scale,
        description,
        coalesce(notes, '') as notes,
        checks,
        arguments
    from {{ ref('talib_golden_columns') }}

),

differences as (

    select
        declared.column_name as declared_column,
        committed.column_name as committed_column
    from declared
    full outer join committed on declared.column_name = committed.column_name
    where
        (
            {% for field in fields %}
                declared.{{ field }}{{ "," if not loop.last }}
            {% endfor %}
        ) is distinct from (
            {% for field in fields %}
                committed.{{ field }}{{ "," if not loop.last }}
            {% endfor %}
        )

)

select * from differences
