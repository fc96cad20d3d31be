"""
A warning printed by the code
=============================

sphinx-gallery shows a warning the script prints in the cell's output; a tolerant build does
the same and lists it on the build report.
"""

import sys
import warnings

warnings.warn("shown on the page", UserWarning, stacklevel=1)
print("the cell goes on")

# %%
# In the order written
# --------------------
# What the script writes to stdout and stderr reads in the order it wrote it, as in
# sphinx-gallery's single captured stream.
for number in range(3):
    print(f"to stdout {number}")
    sys.stderr.write(f"to stderr {number}\n")
