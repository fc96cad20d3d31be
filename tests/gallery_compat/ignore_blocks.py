"""
Ignore blocks
=============

Code between ``sphinx_gallery_start_ignore`` and ``sphinx_gallery_end_ignore`` runs, but the
page and the downloads leave it out.
"""

# %%
# Hidden setup
# ------------

# sphinx_gallery_start_ignore
HIDDEN_VALUE = "computed-by-hidden-code"
print("printed-by-hidden-code")
# sphinx_gallery_end_ignore
print("visible cell uses", HIDDEN_VALUE)
