{#-
  Population standard deviation from a window's mean and mean of squares, as TA-Lib's BBANDS
  and STDDEV compute it: sqrt(E[x^2] - E[x]^2), and 0 where that is below 1e-14.
-#}
{% macro population_stddev_from_moments(mean, mean_of_squares) -%}
    case
        when ({{ mean_of_squares }}) - ({{ mean }}) * ({{ mean }}) < 1e-14 then 0::float8
        else sqrt(({{ mean_of_squares }}) - ({{ mean }}) * ({{ mean }}))
    end
{%- endmacro %}
