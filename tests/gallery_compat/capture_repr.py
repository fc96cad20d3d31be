"""
Capturing the last expression
=============================

``sphinx_gallery_capture_repr = ()`` shows no result for a cell's last expression; a block
can ask otherwise with ``sphinx_gallery_capture_repr_block``.
"""

# sphinx_gallery_capture_repr = ()


class Rich:
    def _repr_html_(self):
        return "<b>rich-html-repr</b>"

    def __repr__(self):
        return "plain-repr"


# %%
# No result shown
# ---------------
print("printed output is still shown")
40 + 2  # noqa: B018

# %%
# HTML first, as sphinx-gallery's default
# ---------------------------------------

# sphinx_gallery_capture_repr_block = ('_repr_html_', '__repr__')
Rich()

# %%
# Only ``__repr__``
# -----------------

# sphinx_gallery_capture_repr_block = ('__repr__',)
Rich()
