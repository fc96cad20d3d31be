"""
An unclosed ignore block
========================

sphinx-gallery refuses a start flag without an end flag.
"""

# sphinx_gallery_start_ignore
print(1)
