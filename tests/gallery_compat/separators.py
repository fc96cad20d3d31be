"""
Both cell separators
====================

sphinx-gallery splits a script into cells at ``# %%`` lines and at lines of 20 or more ``#``.
"""

# %%
# Percent separator
# -----------------
print("after a percent separator")

###############################################################################
# Hash-line separator
# -------------------
print("after a hash-line separator")

# %% tags=["solution"]
# A cell with jupytext tags is still a plain separator for sphinx-gallery.
print("tagged cell")
