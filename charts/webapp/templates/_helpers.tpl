{#- Named templates, shared by every file of the chart through include(). -#}

{#- The name of the chart, or nameOverride. #}
{% define "webapp.name" -%}
{{ Values.nameOverride | default(Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{#- A fully qualified app name, at most 63 characters (DNS names are limited to that). If the
    release name contains the chart name, the release name alone is used. #}
{% define "webapp.fullname" -%}
{% if Values.fullnameOverride -%}
{{ Values.fullnameOverride | trunc(63) | trimSuffix("-") }}
{%- else -%}
{% set name = Values.nameOverride | default(Chart.Name) -%}
{% if name in Release.Name -%}
{{ Release.Name | trunc(63) | trimSuffix("-") }}
{%- else -%}
{{ (Release.Name ~ "-" ~ name) | trunc(63) | trimSuffix("-") }}
{%- endif %}
{%- endif %}
{%- enddefine %}

{#- Chart name and version, for the chart label. #}
{% define "webapp.chart" -%}
{{ (Chart.Name ~ "-" ~ Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{#- Common labels. #}
{% define "webapp.labels" -%}
helm.sh/chart: {{ include("webapp.chart", ctx) }}
{{ include("webapp.selectorLabels", ctx) }}
{% if Chart.AppVersion %}
app.kubernetes.io/version: {{ Chart.AppVersion | quote }}
{% endif %}
app.kubernetes.io/managed-by: {{ Release.Service }}
{%- enddefine %}

{#- Selector labels. #}
{% define "webapp.selectorLabels" -%}
app.kubernetes.io/name: {{ include("webapp.name", ctx) }}
app.kubernetes.io/instance: {{ Release.Name }}
{%- enddefine %}

{#- The name of the service account to use. #}
{% define "webapp.serviceAccountName" -%}
{% if Values.serviceAccount.create -%}
{{ Values.serviceAccount.name | default(include("webapp.fullname", ctx)) }}
{%- else -%}
{{ Values.serviceAccount.name | default("default") }}
{%- endif %}
{%- enddefine %}
