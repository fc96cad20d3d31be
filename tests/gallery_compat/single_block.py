"""
One code block
==============

A script whose code is one block shows its output above the code, as sphinx-gallery does.
"""

import matplotlib.pyplot as plt

print("one block, output first")
plt.plot([1, 3, 2])
plt.show()
