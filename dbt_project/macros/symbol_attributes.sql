{#-
  The symbol dimension's vocabulary (int_symbol_attributes_observed, int_symbol_attributes_resolved):
  vendors' codes mapped to one set of values, and an attribute taken from the first feed in its
  precedence that has a value.
-#}

{#- Polygon's ticker type or Yahoo's quote type as one asset type (lower case; others kept). -#}
{% macro symbol_asset_type(code) -%}
    case upper({{ code }})
        when 'CS' then 'stock'
        when 'OS' then 'stock'
        when 'EQUITY' then 'stock'
        when 'ADRC' then 'adr'
        when 'ADRP' then 'adr'
        when 'ADRR' then 'adr'
        when 'ADRW' then 'adr'
        when 'GDR' then 'adr'
        when 'NYRS' then 'adr'
        when 'PFD' then 'preferred'
        when 'ETF' then 'etf'
        when 'ETN' then 'etn'
        when 'FUND' then 'fund'
        when 'MUTUALFUND' then 'fund'
        when 'CRYPTOCURRENCY' then 'crypto'
        else lower({{ code }})
    end
{%- endmacro %}

{#- Yahoo's exchange code as an ISO 10383 MIC (null for codes not listed here). -#}
{% macro yahoo_exchange_mic(code) -%}
    case {{ code }}
        when 'NMS' then 'XNAS'
        when 'NGM' then 'XNAS'
        when 'NCM' then 'XNAS'
        when 'NAS' then 'XNAS'
        when 'NYQ' then 'XNYS'
        when 'ASE' then 'XASE'
        when 'PCX' then 'ARCX'
        when 'BTS' then 'BATS'
        when 'TOR' then 'XTSE'
        when 'LSE' then 'XLON'
        when 'OSL' then 'XOSL'
        when 'AMS' then 'XAMS'
        when 'CPH' then 'XCSE'
        when 'IST' then 'XIST'
        when 'JKT' then 'XIDX'
        when 'GER' then 'XETR'
        when 'PAR' then 'XPAR'
        when 'HKG' then 'XHKG'
    end
{%- endmacro %}

{#-
  `attribute` from the first of `feeds` (relation aliases, in precedence order) that has a value,
  and `<attribute>_source`: that feed's source_label. Two select-list items (for a select list
  indented by 8 spaces).
-#}
{% macro attribute_by_precedence(attribute, feeds) -%}
    {%- if feeds | length > 1 -%}
        coalesce({% for feed in feeds %}{{ feed }}.{{ attribute }}{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        {{ feeds[0] }}.{{ attribute }}
    {%- endif %} as {{ attribute }},
        case
            {%- for feed in feeds %}
            when {{ feed }}.{{ attribute }} is not null then {{ feed }}.source_label
            {%- endfor %}
        end as {{ attribute }}_source
{%- endmacro %}
