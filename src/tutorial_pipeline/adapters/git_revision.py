"""mkdocs-git-revision-date-localized-plugin's dates, for a page whose source is not under
docs/ (a tutorial page's source is its script).

The plugin (1.6) has no API for another file's date: its ``util`` object, which it uses
itself, does the git lookup and the formatting.
"""

from __future__ import annotations

from pathlib import Path

from . import Upstream

UPSTREAM = (
    Upstream("mkdocs_git_revision_date_localized_plugin.util:Util.get_git_commit_timestamp"),
    Upstream("mkdocs_git_revision_date_localized_plugin.util:Util.get_date_formats_for_timestamp"),
)


def revision_date(plugin, path: Path) -> str:
    """``path``'s last commit date, formatted as the plugin formats a page's."""
    _, timestamp = plugin.util.get_git_commit_timestamp(str(path))
    locale = plugin.config.get("locale") or "en"
    dates = plugin.util.get_date_formats_for_timestamp(int(timestamp), locale, add_spans=True)
    return dates[plugin.config["type"]]
