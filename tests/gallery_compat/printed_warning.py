"""
A warning printed by the code
=============================

sphinx-gallery shows a warning the script prints in the cell's output; a tolerant build does
the same and lists it on the build report.
"""

import warnings

warnings.warn("shown on the page", UserWarning, stacklevel=1)
print("the cell goes on")
