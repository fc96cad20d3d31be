"""
A tutorial in a section
=======================

This script sits in ``section_demo/``, whose ``GALLERY_HEADER.rst`` makes it a section.
"""

# %%
# In the section
# --------------
print("inside the section")
