"""
Settings that change nothing here
=================================

sphinx-gallery reads ``failing_thumbnail`` only for an example that is expected to fail and
``dummy_images`` only for one it does not run: this site runs every script and fails the
build on an error, so both are accepted and change nothing, as they change nothing in such a
sphinx-gallery build. ``parallel = False`` runs the script while no other one runs.
``thumbnail_path`` names the gallery card's picture, relative to the docs folder as
sphinx-gallery's is to ``conf.py``. A setting sphinx-gallery does not know is listed on the
build report.
"""

# sphinx_gallery_failing_thumbnail = False
# sphinx_gallery_dummy_images = 2
# sphinx_gallery_parallel = False
# sphinx_gallery_thumbnail_path = "assets/thumb.png"
# sphinx_gallery_not_a_setting = 1

print("settings read")
