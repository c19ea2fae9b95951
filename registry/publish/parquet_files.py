"""One Parquet file per mart; the publish id is in each file's metadata."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(df: pd.DataFrame, path: Path, publish_id: str) -> Path:
    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), b"registry_publish_id": publish_id.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path
