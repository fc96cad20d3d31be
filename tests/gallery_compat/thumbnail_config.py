"""
Thumbnail from the second figure
================================

``sphinx_gallery_thumbnail_number = 2`` picks the second figure for the gallery card.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# A square figure
# ---------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
plt.show()

# %%
# A wide figure
# -------------
fig, ax = plt.subplots(figsize=(6, 2))
ax.plot([0, 1], [1, 0])
plt.show()
