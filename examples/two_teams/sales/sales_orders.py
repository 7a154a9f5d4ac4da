"""The sales team's orders table, with the columns it promises to every reader."""

import pandas as pd

import legato as lg


@lg.asset(contract=lg.TableContract({"id": "int64", "amount": "float64"}, not_null=["id"]))
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "amount": [9.5, 3.0, 12.25]})
