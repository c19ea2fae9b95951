{{ config(tags=['as_of_scoped']) }}
-- The delivery whose rows are analysed, one per site: its current delivery, or, for an
-- as-of analysis (`--vars '{as_of: 2017-07-31}'`), its newest accepted delivery with a
-- data cut on or before that date (held and rejected files never count), by data cut,
-- then arrival, as the ingestion settles the current one.
{%- set as_of = var('as_of', none) %}
select site_id, delivery_id, file_name, data_cut
from {{ ref('stg_landing__deliveries') }}
{%- if as_of %}
where status in ('current', 'superseded') and data_cut <= cast('{{ as_of }}' as date)
qualify row_number() over (
    partition by site_id order by data_cut desc, arrived_at desc, modified_at desc, file_path desc) = 1
{%- else %}
where status = 'current'
{%- endif %}
