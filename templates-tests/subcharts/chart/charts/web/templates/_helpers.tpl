{% define "web.greeting" %}hello from web{% enddefine %}
