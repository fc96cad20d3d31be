"""
Figures as sphinx-gallery takes them
====================================

Each cell's open figures are shown when the cell ends, then closed: ``plt.show()`` draws
nothing by itself, a figure closed before the cell ends is not shown, and a cell marked
``sphinx_gallery_defer_figures`` leaves its figures open for the next cell.
"""

# %%
# Started here
# ------------
# The first two lines of a figure; the flag keeps it open for the next cell.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1], [0, 1], label="first")
ax.plot([0, 1], [1, 0], label="second")
# sphinx_gallery_defer_figures

# %%
# Finished here
# -------------
# The third line, the legend, and then the whole figure, once.
ax.plot([0, 1], [0.5, 0.5], label="third")
ax.legend()
print("lines on the figure:", len(ax.lines))
plt.show()

# %%
# Shown, then closed
# ------------------
# ``plt.show()`` draws nothing here, and the figure is closed before the cell ends.
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1])
plt.show()
plt.close(fig)
print("closed before the cell ended")

# %%
# Drawing after ``plt.show()``
# ----------------------------
# The line drawn after ``plt.show()`` lands on the same figure, which the cell then shows.
print("printed before the figure was drawn")
plt.plot([0, 1], [0, 1])
plt.show()
plt.plot([0, 1], [1, 0])
print("lines:", len(plt.gca().lines))
