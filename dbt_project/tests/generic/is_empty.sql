{# Fails when the model has any row; used with severity warn for "should be empty" lists. #}
{% test is_empty(model) %}
select * from {{ model }}
{% endtest %}
