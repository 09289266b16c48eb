{#- Labels every object of the shop carries. #}
{% define "common.labels" -%}
app.kubernetes.io/name: {{ Chart.Name }}
app.kubernetes.io/instance: {{ Release.Name }}
app.kubernetes.io/part-of: shop
app.kubernetes.io/managed-by: {{ Release.Service }}
shop.example.com/environment: {{ Values.global.environment }}
{%- enddefine %}

{% define "common.fullname" -%}
{{ (Release.Name ~ "-" ~ Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- enddefine %}
