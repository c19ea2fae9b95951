"""Automation conditions shared by the asset graph."""
from __future__ import annotations

import dagster as dg

# A check is requested whenever the asset it checks is (in the same run) or was updated:
# automation never builds an asset without running its checks, so the publish gate
# finds them evaluated against the data it publishes.
WITH_ITS_ASSET = dg.AutomationCondition.any_deps_match(
    dg.AutomationCondition.will_be_requested() | dg.AutomationCondition.newly_updated()
)
