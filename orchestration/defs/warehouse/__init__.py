"""dbt: landing -> staging -> intermediate -> star schema and data-quality models."""
