"""
Several figures from one cell
=============================

Figures from one cell sit side by side, unless ``sphinx_gallery_multi_image = "single"``
(for the script) or ``sphinx_gallery_multi_image_block = "single"`` (for one cell) asks
for one under the other.

.. seealso:: :ref:`sphx_glr_tutorials_figures.py`, sphinx-gallery's label of a page.
"""

# sphinx_gallery_tags = ["figures", "layout"]

# %%
# Side by side
# ------------
import matplotlib.pyplot as plt

for width in (3, 4):
    plt.figure(figsize=(width, 2))
    plt.plot(range(width))

# %%
# One under the other
# -------------------

# sphinx_gallery_multi_image_block = "single"
for width in (3, 4):
    plt.figure(figsize=(width, 2))
    plt.plot(range(width))
