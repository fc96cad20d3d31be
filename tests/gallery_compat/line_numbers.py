"""
Line numbers
============

``sphinx_gallery_line_numbers = True`` numbers the lines of this page's code.
"""

# sphinx_gallery_line_numbers = True

# %%
# Numbered code
# -------------
first = 1
second = 2
print(first + second)
