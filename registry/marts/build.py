"""Build all outcome marts from the star schema, and store them in the
warehouse's ``marts`` schema."""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from .change import eq5d_outcomes, pain_outcomes
from .cohort import cancer_types, cohort_overview
from .data_quality import site_data_quality, site_rejection_reasons
from .disposition import disposition
from .infections import infection_outcomes
from .small_cells import protected_marts, suppress_marts
from .survival import survival, survival_at_risk, survival_summary

# Publication order. The first eight are section 7 of the site workbook contract.
MART_BUILDERS: dict[str, Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]] = {
    "cohort_overview": cohort_overview,
    "cancer_types": cancer_types,
    "disposition": disposition,
    "pain_outcomes": pain_outcomes,
    "eq5d_outcomes": eq5d_outcomes,
    "infection_outcomes": infection_outcomes,
    "survival": survival,
    "site_data_quality": site_data_quality,
    "survival_summary": survival_summary,
    "survival_at_risk": survival_at_risk,
    "site_rejection_reasons": site_rejection_reasons,
}
CONTRACT_MARTS = tuple(MART_BUILDERS)[:8]



def build_marts(con: duckdb.DuckDBPyConnection, *, small_cell_max: int) -> dict[str, pd.DataFrame]:
    """Compute every mart from ``warehouse.*`` and ``dq.*``; reads only.

    Counts from 1 to ``small_cell_max`` in region rows are suppressed, with the
    complementary cells that keep them from being recovered (``small_cells``);
    0 disables suppression.
    """
    exact = {name: builder(con).reset_index(drop=True) for name, builder in MART_BUILDERS.items()}
    marts = suppress_marts(exact, small_cell_max, protected_marts())
    return {name: df.reset_index(drop=True) for name, df in marts.items()}


def write_marts(con: duckdb.DuckDBPyConnection, marts: dict[str, pd.DataFrame],
                schema: str = "marts") -> None:
    """Replace the ``schema`` tables with ``marts`` in one transaction (bulk
    DataFrame scans), so a reader of the warehouse never sees half of them."""
    con.execute("begin transaction")
    try:
        con.execute(f"drop schema if exists {schema} cascade")
        con.execute(f"create schema {schema}")
        for name, df in marts.items():
            view = f"_mart_{name}"
            con.register(view, df)
            try:
                con.execute(f'create table {schema}."{name}" as select * from "{view}"')
            finally:
                con.unregister(view)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def read_marts(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, pd.DataFrame]:
    """The marts stored by ``write_marts``, in publication order."""
    stored = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    ).fetchall()}
    return {name: con.execute(f'select * from {schema}."{name}"').fetchdf()
            for name in MART_BUILDERS if name in stored}


# One line per mart for the asset catalogue (docs/marts.md has the details).
MART_DESCRIPTIONS = {
    "cohort_overview": "Patients, women and age at implant, per region and All.",
    "cancer_types": "Patients per primary cancer type, per region and All, with Wilson intervals.",
    "disposition": "Registry exits by category (death, explant or discontinuation, other) and "
    "patients still active, with percentages of those who exited.",
    "pain_outcomes": "Pain (0 to 10) at baseline and at 6 and 12 months in paired patients: "
    "mean change, SD, 95% CI, paired t-test (primary) and Wilcoxon signed-rank test.",
    "eq5d_outcomes": "EQ-5D index at baseline and at 6 and 12 months in paired patients, "
    "with the same statistics as pain_outcomes.",
    "infection_outcomes": "Patients with an infection that needed surgical intervention, "
    "per region and All, with Wilson intervals.",
    "survival": "Kaplan-Meier survival from implant to death (censored at other exits or at "
    "the data cut), one row per distinct death time.",
    "site_data_quality": "Rows received, accepted and rejected per site delivery, with its status.",
    "survival_summary": "Median survival and survival at 6 and 12 months, per region and All.",
    "survival_at_risk": "Numbers at risk every 6 months under the Kaplan-Meier curve.",
    "site_rejection_reasons": "Rejected rows per site delivery and reason.",
}
