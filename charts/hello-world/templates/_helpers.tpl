{#- Named templates, shared by every file of the chart through include(). -#}

{#- The name of the chart, or nameOverride. #}
{% define "hello-world.name" -%}
{{ Values.nameOverride | default(Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{#- A fully qualified app name, at most 63 characters (DNS names are limited to that). If the
    release name contains the chart name, the release name alone is used. #}
{% define "hello-world.fullname" -%}
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
{% define "hello-world.chart" -%}
{{ (Chart.Name ~ "-" ~ Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{#- Common labels. #}
{% define "hello-world.labels" -%}
helm.sh/chart: {{ include("hello-world.chart", ctx) }}
{{ include("hello-world.selectorLabels", ctx) }}
{% if Chart.AppVersion %}
app.kubernetes.io/version: {{ Chart.AppVersion | quote }}
{% endif %}
app.kubernetes.io/managed-by: {{ Release.Service }}
{%- enddefine %}

{#- Selector labels. #}
{% define "hello-world.selectorLabels" -%}
app.kubernetes.io/name: {{ include("hello-world.name", ctx) }}
app.kubernetes.io/instance: {{ Release.Name }}
{%- enddefine %}

{#- The name of the service account to use. #}
{% define "hello-world.serviceAccountName" -%}
{% if Values.serviceAccount.create -%}
{{ Values.serviceAccount.name | default(include("hello-world.fullname", ctx)) }}
{%- else -%}
{{ Values.serviceAccount.name | default("default") }}
{%- endif %}
{%- enddefine %}
