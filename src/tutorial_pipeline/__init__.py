"""Build glue for PyTorch Fundamentals: sphinx-gallery tutorials executed at build time.

A tutorial script is converted to a notebook (`convert`), executed in a Jupyter kernel
(`execute`), cached by content and environment (`cache`), and rendered by mkdocs-jupyter
inside the site, with its page slimmed (`html`) and listed on the build report (`report`).
`mkdocs_hook` wires these into ``mkdocs build``; `pipeline` runs them for many tutorials.
"""

from .errors import TutorialError
from .pipeline import TutorialBuildError, TutorialResult, build_tutorials, discover

__all__ = ["TutorialBuildError", "TutorialError", "TutorialResult", "build_tutorials", "discover"]
