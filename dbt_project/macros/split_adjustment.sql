{#-
  Split adjustment, written once for daily and hourly bars. int_split_eras holds, per symbol,
  the exact factor of every era between split ex-dates; a bar is divided by the factor of the
  era its split basis date falls in (no era: factor 1, the basis of the newest bar).

  Use in a model with an import CTE `split_eras` (select * from int_split_eras) and a CTE of
  bars (symbol, open, high, low, close, volume) with a split_basis_date column:

      select {{ split_adjusted_bar_columns('bars') }}, {{ split_factor() }} as split_factor
      from bars
      {{ join_split_era('bars') }}
-#}

{#- The day whose basis a bar's prices are in. Yahoo serves prices already split-adjusted as of
    the fetch, so a Yahoo bar takes only the splits after both the bar and the day it was
    fetched (its loaded_at, New York date); other sources land unadjusted bars. -#}
{% macro split_basis_date(bars) -%}
    case
        when {{ bars }}.data_source = 'yahoo'
            then greatest(
                {{ bars }}.trade_date,
                ({{ bars }}.loaded_at at time zone 'America/New_York')::date
            )
        else {{ bars }}.trade_date
    end
{%- endmacro %}

{#- The era of each bar (a left join: bars after the last split have none). -#}
{% macro join_split_era(bars, eras='split_eras') -%}
    left join {{ eras }}
        on {{ bars }}.symbol = {{ eras }}.symbol
        and {{ bars }}.split_basis_date < {{ eras }}.era_end
        and ({{ eras }}.era_start is null or {{ bars }}.split_basis_date >= {{ eras }}.era_start)
{%- endmacro %}

{#- The factor the bar's prices are divided by (1 = no later split). -#}
{% macro split_factor(eras='split_eras') -%}
    coalesce({{ eras }}.split_factor, 1)
{%- endmacro %}

{#- Split-adjusted open, high, low, close (raw / factor) and volume (raw * factor), exact. -#}
{% macro split_adjusted_bar_columns(bars, eras='split_eras') -%}
    {{ bars }}.open / {{ split_factor(eras) }} as open,
    {{ bars }}.high / {{ split_factor(eras) }} as high,
    {{ bars }}.low / {{ split_factor(eras) }} as low,
    {{ bars }}.close / {{ split_factor(eras) }} as close,
    {{ bars }}.volume * {{ split_factor(eras) }} as volume
{%- endmacro %}
