"""Automation conditions shared by the asset graph."""
from __future__ import annotations

import dagster as dg

# A check is requested with the asset it checks (in the same run), and after its asset was
# updated by a run that did not evaluate it: automation never builds an asset without running
# its checks, so the publish gate finds them evaluated against the data it publishes. A check
# its asset's run evaluated, or will (it is in progress), is not requested again: that second
# run only repeated the checks, and, taking turns with the first run in the warehouse pool,
# could evaluate them between its steps and get its publish refused.
WITH_ITS_ASSET = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested()) | (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
    & ~dg.AutomationCondition.newly_updated()
    & ~dg.AutomationCondition.in_progress()
)
