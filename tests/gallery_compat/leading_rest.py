""".. _leading-rest:

`Gallery <../>`_ || `Next: separators <../separators/>`_

Leading reST before the title
=============================

sphinx-gallery takes the first underlined heading as the title: the label and the row of
links above it stay on the page as prose.
"""

# %%
# A cell
# ------
print("leading reST is kept")
