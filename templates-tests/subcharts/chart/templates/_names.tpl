{# The parent's define wins over the subchart's of the same name. #}
{% define "web.greeting" %}hello from the parent{% enddefine %}
