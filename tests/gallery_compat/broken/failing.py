"""
A failing script
================

It raises: the build fails, naming this file, the line and the exception.
"""

# %%
# Raise
# -----
value = 1
raise RuntimeError("planted failure")
