"""Revenue from the sales team's orders: an asset of another project, read here."""

from typing import Annotated

import pandas as pd

import legato as lg

orders = lg.external_asset("orders", project="sales")  # its key in the sales project


@lg.asset
def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float:
    return float(orders["amount"].sum())
