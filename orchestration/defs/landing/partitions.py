import dagster as dg

# One partition per site of the site master: a delivery reloads only its site.
SITE_PARTITIONS = dg.DynamicPartitionsDefinition(name="sites")
