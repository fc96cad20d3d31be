"""
.. _compat-targets:

Targets on another page
=======================

This page holds the labels and headings that ``rest_constructs`` links to.
"""

# %%
# .. _targets-section:
#
# A heading to link to
# --------------------
# Cross-page references land here.
print("targets")
