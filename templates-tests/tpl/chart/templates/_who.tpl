{% define "tpl.who" %}{{ Chart.Name }}{% enddefine %}
