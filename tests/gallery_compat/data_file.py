"""
A data file next to the script
==============================

The script runs in its own folder, with ``__file__`` set, as sphinx-gallery runs it: a file
next to it opens by its name, or relative to ``__file__``.
"""

# %%
# Relative to the working directory
# ---------------------------------
import csv
from pathlib import Path

with open("compat_data.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
print("rows:", [row["name"] for row in rows])

# %%
# Relative to ``__file__``
# ------------------------
here = Path(__file__).resolve().parent
print("script:", Path(__file__).name, "| data beside it:", (here / "compat_data.csv").is_file())
