"""A tutorial's reStructuredText prose as notebook Markdown, parsed with docutils.

sphinx-gallery writes a script's docstring and comment blocks in reST, and its own notebook
writer turns them into Markdown with regular expressions, which publishes what it does not
know as raw text. Here the prose of the whole script is parsed as ONE docutils document, the
way Sphinx parses the page sphinx-gallery generates (heading levels, substitutions and
hyperlink targets are document-wide), with Sphinx's roles and directives registered. The
doctree is then written back as the Markdown that nbconvert (mistune) renders in a notebook:

* headings ``#`` to ``######`` by depth; lists; tables and definition lists as HTML;
  ``::``, ``code-block`` and doctest blocks as fenced code with their language;
* math as ``$...$`` and ``$$...$$`` (display math wrapped as Sphinx's MathJax output wraps it);
* admonitions (note, warning, seealso, tip, important, hint, caution, danger, attention,
  error, ``.. admonition:: Title``, topic, sidebar) as Material admonitions: raw HTML around
  Markdown, which both mistune and Jupyter render;
* images, figures and ``:download:`` files: their files are listed in ``files`` and copied
  next to the page by the build;
* ``.. _label:`` targets as anchors; ``:ref:``, ``:doc:``, ``:numref:``, ``:term:`` and ``:any:``
  as links whose target is only known once every page is (`tutorial_pipeline.publish`
  resolves them): ``[text](xref:N)``, N indexing ``references``;
* ``:func:``, ``:class:``, ``:meth:``, ``:mod:``, ``:attr:``... as code, linked to the API
  reference when the name resolves (`tutorial_pipeline.apiref`);
* ``.. only::`` keeps what the HTML builder keeps; ``.. rst-class::`` and index entries add
  nothing visible; ``.. currentmodule::`` and ``.. highlight::`` set what they set in Sphinx.

What docutils reports as an error (level 3 or above: an unknown directive or role, a
malformed table, a link to an undefined target), and a missing image or download, raise
`TutorialError` with the script line. A warning (level 2: a title underline shorter than
its title, an inline markup start-string without an end-string...) does too when the
script is converted ``strict`` (this site's own tutorials); otherwise it is what Sphinx
makes of it without ``-W``: the page renders as Sphinx renders it (the section is made,
problematic markup shows as its text) and the warning is kept in ``Prose.warnings`` with
its script line, for the build log and the build report. Quotes, dashes and ellipses are
made typographic, as Sphinx's default ``smartquotes`` does.
"""

from __future__ import annotations

import ast
import html
import posixpath
import re
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from docutils import nodes, utils
from docutils.parsers.rst import Directive, directives, roles
from docutils.parsers.rst.directives.misc import Class as ClassDirective

from . import apiref
from .errors import TutorialError

#: docutils messages at this level or above fail the build (2: warning, 3: error); a
#: warning fails it only in a strict conversion, as Sphinx's ``-W`` would.
FAIL_LEVEL = 3
WARNING_LEVEL = 2
#: Sphinx's tags for the HTML builder, for ``.. only::``.
HTML_TAGS = {"html", "format_html", "builder_html"}
#: reST admonition -> (Material admonition type, title).
ADMONITIONS = {
    "note": ("note", "Note"),
    "seealso": ("note", "See also"),
    "tip": ("tip", "Tip"),
    "hint": ("tip", "Hint"),
    "important": ("tip", "Important"),
    "warning": ("warning", "Warning"),
    "caution": ("warning", "Caution"),
    "attention": ("warning", "Attention"),
    "danger": ("danger", "Danger"),
    "error": ("danger", "Error"),
}
_VERSION_TEXT = {
    "versionadded": "Added in version {}",
    "versionchanged": "Changed in version {}",
    "deprecated": "Deprecated since version {}",
    "versionremoved": "Removed in version {}",
}
_CELL_DIRECTIVE = "tutorial-pipeline-cell"
_CELL_MARK = re.compile(r"\x00CELL(\d+)\x00")
_EXPLICIT_TITLE = re.compile(r"^(.+?)\s*(?<!\x00)<(.*?)>$", re.S)

# -- Nodes for what Sphinx adds to docutils ------------------------------------------------


class cell_break(nodes.Element):
    """Where one text block of the script ends and the next begins."""


class xref(nodes.Inline, nodes.TextElement):
    """``:ref:``, ``:doc:``, ... : resolved once the whole site is known."""


class api_ref(nodes.Inline, nodes.TextElement):
    """``:func:``, ``:class:``, ... : a Python object, linked when it resolves."""


class download_ref(nodes.Inline, nodes.TextElement):
    """``:download:``: a file copied next to the page and linked."""


class only(nodes.Element):
    """``.. only:: expr``: kept when the expression holds for the HTML builder."""


class current_module(nodes.Element):
    """``.. currentmodule::``: where ``:func:`name``` etc. look first."""


class highlight_language(nodes.Element):
    """``.. highlight::``: the language of the ``::`` blocks that follow."""


class version_note(nodes.Element):
    """``.. versionadded::`` and friends."""


class glossary(nodes.Element):
    """``.. glossary::``: a definition list whose terms are ``:term:`` targets."""


# -- Roles ---------------------------------------------------------------------------------


def _split_title(text: str) -> tuple[str | None, str]:
    """Sphinx's ``title <target>`` syntax: (title or None, target)."""
    match = _EXPLICIT_TITLE.match(text)
    if match:
        return utils.unescape(match.group(1)), utils.unescape(match.group(2)).strip()
    return None, utils.unescape(text).strip()


def _xref_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    role = name.split(":")[-1]
    title, target = _split_title(text)
    if role == "term":
        target = " ".join(target.split())
    node = xref(rawtext, title or target, role=role, target=target, explicit=bool(title))
    node.line = lineno
    return [node], []


def _api_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    role = name.split(":")[-1]
    title, target = _split_title(text)
    tilde = target.startswith("~")
    target = target.lstrip("~!.")
    if title is None:
        title = target.rsplit(".", 1)[-1] if tilde else target
        if role in ("func", "meth") and not title.endswith(")"):
            title += "()"
    node = api_ref(rawtext, title, role=role, target=target, nolink=text.lstrip().startswith("!"))
    node.line = lineno
    return [node], []


def _download_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    title, target = _split_title(text)
    node = download_ref(rawtext, title or posixpath.basename(target), target=target)
    node.line = lineno
    return [node], []


def _literal_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [nodes.literal(rawtext, utils.unescape(text))], []


def _emphasis_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    text = utils.unescape(text)
    if name == "menuselection":
        text = text.replace("-->", "\N{TRIANGULAR BULLET}")
    elif name == "guilabel":
        text = re.sub(r"&(?!&)", "", text)
    return [nodes.emphasis(rawtext, text)], []


def _kbd_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    keys = html.escape(utils.unescape(text))
    return [nodes.raw(rawtext, f"<kbd>{keys}</kbd>", format="html")], []


def _abbr_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    match = re.match(r"^(.+?)\s*\((.+)\)$", utils.unescape(text), re.S)
    short, explanation = (match.group(1), match.group(2)) if match else (utils.unescape(text), "")
    node = nodes.abbreviation(rawtext, short)
    if explanation:
        node["explanation"] = explanation
    return [node], []


def _text_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    title, _ = _split_title(text)
    return [nodes.Text(title or utils.unescape(text))], []


# -- Directives ----------------------------------------------------------------------------


def _context(directive: Directive) -> _Context:
    return directive.state.document.settings.tutorial_context


class CellBreak(Directive):
    required_arguments = 1

    def run(self):
        return [cell_break(index=int(self.arguments[0]))]


class CodeBlock(Directive):
    """Sphinx's ``code-block`` (also ``sourcecode`` and ``code``)."""

    optional_arguments = 1
    has_content = True
    option_spec: ClassVar[dict] = {
        "linenos": directives.flag,
        "lineno-start": int,
        "emphasize-lines": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
        "class": directives.class_option,
        "dedent": directives.unchanged,
        "force": directives.flag,
        "number-lines": directives.unchanged,
    }

    def run(self):
        code = "\n".join(self.content)
        dedent = self.options.get("dedent")
        if dedent is not None:
            code = _dedent(code, dedent)
        node = nodes.literal_block(code, code, language=self.arguments[0] if self.arguments else "")
        node["caption"] = self.options.get("caption", "")
        node["classes"] += self.options.get("class", [])
        node.source, node.line = self.state_machine.get_source_and_line(self.lineno)
        self.add_name(node)
        return [node]


def _dedent(code: str, amount: str) -> str:
    lines = code.split("\n")
    if not amount.strip():
        return textwrap.dedent(code)
    count = int(amount)
    return "\n".join(line[count:] if line[:count].isspace() else line.lstrip() for line in lines)


class LiteralInclude(Directive):
    """Sphinx's ``literalinclude``: a file next to the script, shown as code."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict] = {
        "language": directives.unchanged,
        "lines": directives.unchanged,
        "start-after": directives.unchanged,
        "end-before": directives.unchanged,
        "dedent": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
        "linenos": directives.flag,
        "lineno-start": int,
        "emphasize-lines": directives.unchanged,
        "encoding": directives.unchanged,
        "class": directives.class_option,
    }

    def run(self):
        context = _context(self)
        path = context.find_file(self.arguments[0], context.line(self.lineno))
        text = path.read_text(encoding=self.options.get("encoding", "utf-8"))
        if "start-after" in self.options:
            text = text.split(self.options["start-after"], 1)[-1].split("\n", 1)[-1]
        if "end-before" in self.options:
            text = text.split(self.options["end-before"], 1)[0].rsplit("\n", 1)[0]
        if "lines" in self.options:
            lines = text.splitlines()
            wanted: list[str] = []
            for part in self.options["lines"].split(","):
                start, _, end = part.strip().partition("-")
                first = int(start) if start else 1
                last = (int(end) if end else len(lines)) if "-" in part else first
                wanted += lines[first - 1 : last]
            text = "\n".join(wanted)
        if "dedent" in self.options:
            text = _dedent(text, self.options["dedent"])
        language = self.options.get("language") or _language_of(path)
        node = nodes.literal_block(text, text.rstrip("\n"), language=language)
        node["caption"] = self.options.get("caption", "")
        node.source, node.line = self.state_machine.get_source_and_line(self.lineno)
        self.add_name(node)
        return [node]


def _language_of(path: Path) -> str:
    return {
        ".py": "python",
        ".json": "json",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".sh": "bash",
        ".toml": "toml",
        ".csv": "text",
        ".txt": "text",
    }.get(path.suffix.lower(), "text")


class Math(Directive):
    """Sphinx's ``math``: one display block, with ``:label:`` and ``:nowrap:``."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict] = {
        "label": directives.unchanged,
        "name": directives.unchanged,
        "class": directives.class_option,
        "nowrap": directives.flag,
    }

    def run(self):
        latex = "\n".join(self.content)
        if self.arguments and self.arguments[0]:
            latex = self.arguments[0] + "\n\n" + latex
        node = nodes.math_block(latex, latex, nowrap="nowrap" in self.options)
        node.source, node.line = self.state_machine.get_source_and_line(self.lineno)
        label = self.options.get("label") or self.options.get("name")
        if label:
            self.options["name"] = label
            self.add_name(node)
        return [node]


class SeeAlso(Directive):
    """Sphinx's ``seealso``: the text may start on the directive line."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        node = nodes.admonition(classes=["seealso"])
        text = "\n".join([*(self.arguments or []), *self.content])
        if self.arguments:
            self.state.nested_parse(_string_list(text, self), self.lineno - 1, node)
        else:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def _string_list(text: str, directive: Directive):
    """``text`` (a directive's argument and content) as lines numbered from the directive's."""
    from docutils.statemachine import StringList

    source = directive.state_machine.get_source_and_line(directive.lineno)[0]
    lines = text.splitlines()
    return StringList(lines, items=[(source, directive.lineno - 1 + i) for i in range(len(lines))])


class VersionChange(Directive):
    required_arguments = 1
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        node = version_note(kind=self.name, version=self.arguments[0])
        text = "\n".join([*self.arguments[1:], *self.content])
        if text.strip():
            self.state.nested_parse(_string_list(text, self), self.lineno - 1, node)
        return [node]


class Only(Directive):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        node = only(expr=self.arguments[0])
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class CurrentModule(Directive):
    required_arguments = 1
    option_spec: ClassVar[dict] = {
        "platform": directives.unchanged,
        "synopsis": directives.unchanged,
        "deprecated": directives.flag,
        "no-index": directives.flag,
        "noindex": directives.flag,
    }

    def run(self):
        module = self.arguments[0].strip()
        return [current_module(module="" if module == "None" else module)]


class Highlight(Directive):
    required_arguments = 1
    option_spec: ClassVar[dict] = {
        "linenothreshold": directives.unchanged,
        "force": directives.flag,
    }

    def run(self):
        return [highlight_language(language=self.arguments[0].strip())]


class Nothing(Directive):
    """Directives that add nothing to an HTML page (index entries, LaTeX hints)."""

    optional_arguments = 10
    final_argument_whitespace = True
    has_content = True
    option_spec = None

    def run(self):
        return []


class Centered(Directive):
    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        text_nodes, messages = self.state.inline_text(self.arguments[0], self.lineno)
        return [
            nodes.paragraph(self.arguments[0], "", *text_nodes, classes=["centered"]),
            *messages,
        ]


class Container(Directive):
    """``hlist`` and other wrappers whose content is simply shown."""

    optional_arguments = 1
    has_content = True
    option_spec: ClassVar[dict] = {"columns": int}

    def run(self):
        node = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class Glossary(Directive):
    has_content = True
    option_spec: ClassVar[dict] = {"sorted": directives.flag}

    def run(self):
        node = glossary()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class TocTree(Directive):
    """Sphinx's ``toctree``: a list of links to the pages it names."""

    has_content = True
    option_spec: ClassVar[dict] = {
        "maxdepth": int,
        "caption": directives.unchanged,
        "name": directives.unchanged,
        "hidden": directives.flag,
        "glob": directives.flag,
        "titlesonly": directives.flag,
        "numbered": directives.unchanged,
        "includehidden": directives.flag,
        "reversed": directives.flag,
        "class": directives.class_option,
    }

    def run(self):
        if "hidden" in self.options:
            return []
        items = []
        for entry in self.content:
            if not entry.strip():
                continue
            title, target = _split_title(entry.strip())
            ref = xref(entry, title or target, role="doc", target=target, explicit=bool(title))
            ref.line = self.lineno
            items.append(nodes.list_item("", nodes.paragraph("", "", ref)))
        return [nodes.bullet_list("", *items)] if items else []


class AutoSummary(Directive):
    """Sphinx's ``autosummary``: here, a list of the names, linked to their reference."""

    has_content = True
    option_spec: ClassVar[dict] = {
        "toctree": directives.unchanged,
        "nosignatures": directives.flag,
        "template": directives.unchanged,
        "recursive": directives.flag,
        "signatures": directives.unchanged,
    }

    def run(self):
        items = []
        for entry in self.content:
            name = entry.strip()
            if not name or name.startswith(":"):
                continue
            ref = api_ref(name, name.lstrip("~"), role="obj", target=name.lstrip("~"), nolink=False)
            ref.line = self.lineno
            items.append(nodes.list_item("", nodes.paragraph("", "", ref)))
        return [nodes.bullet_list("", *items)] if items else []


def _register() -> None:
    for role in ("ref", "doc", "numref", "term", "any", "eq"):
        roles.register_local_role(role, _xref_role)
        roles.register_local_role("std:" + role, _xref_role)
    for role in (
        "func",
        "meth",
        "class",
        "mod",
        "attr",
        "obj",
        "data",
        "exc",
        "const",
        "type",
        "attribute",
        "method",
        "function",
        "module",
    ):
        roles.register_local_role(role, _api_role)
        roles.register_local_role("py:" + role, _api_role)
    roles.register_local_role("download", _download_role)
    for role in (
        "file",
        "samp",
        "command",
        "program",
        "envvar",
        "option",
        "token",
        "keyword",
        "makevar",
        "regexp",
        "mailheader",
        "std:envvar",
        "std:option",
    ):
        roles.register_local_role(role, _literal_role)
    for role in ("dfn", "mimetype", "newsgroup", "guilabel", "menuselection"):
        roles.register_local_role(role, _emphasis_role)
    roles.register_local_role("kbd", _kbd_role)
    roles.register_local_role("abbr", _abbr_role)
    roles.register_local_role("index", _text_role)
    directives.register_directive(_CELL_DIRECTIVE, CellBreak)
    for name in ("code-block", "sourcecode", "code"):
        directives.register_directive(name, CodeBlock)
    directives.register_directive("literalinclude", LiteralInclude)
    directives.register_directive("math", Math)
    directives.register_directive("seealso", SeeAlso)
    for name in _VERSION_TEXT:
        directives.register_directive(name, VersionChange)
    directives.register_directive("only", Only)
    for name in ("currentmodule", "module", "py:currentmodule", "py:module"):
        directives.register_directive(name, CurrentModule)
    directives.register_directive("highlight", Highlight)
    directives.register_directive("rst-class", ClassDirective)
    directives.register_directive("cssclass", ClassDirective)
    directives.register_directive("centered", Centered)
    directives.register_directive("hlist", Container)
    directives.register_directive("glossary", Glossary)
    directives.register_directive("toctree", TocTree)
    directives.register_directive("autosummary", AutoSummary)
    for name in (
        "index",
        "tabularcolumns",
        "sectionauthor",
        "moduleauthor",
        "codeauthor",
        "default-domain",
        "py:default-domain",
    ):
        directives.register_directive(name, Nothing)


_register()
_parse_lock = threading.Lock()


# -- Parsing -------------------------------------------------------------------------------


@dataclass
class Prose:
    """A script's prose as Markdown, one string per text block, and what the page needs."""

    cells: list[str]
    references: list[dict] = field(default_factory=list)  # role, target, line, explicit
    labels: list[dict] = field(default_factory=list)  # label, anchor, title
    headings: list[dict] = field(default_factory=list)  # title, anchor
    files: dict[str, str] = field(default_factory=dict)  # name beside the page -> path
    api: dict[str, list[str]] = field(default_factory=dict)  # full name -> [url], from roles
    warnings: list[dict] = field(default_factory=list)  # line, message: tolerated (level 2)
    links: list[dict] = field(default_factory=list)  # uri, line: relative links to check


class _Context:
    """What directives and the writer share while one script is converted."""

    def __init__(
        self,
        path: Path,
        where: list[int | None],
        lines: list[str] | None = None,
        *,
        strict: bool = True,
    ):
        self.path = Path(path)
        self.where = where
        self.lines = lines or []
        self.strict = strict
        self.prose = Prose([])

    def locate(self, rst_line: int | None, rawtext: str) -> int | None:
        """The script line of ``rawtext`` (a role), searched from ``rst_line`` (the line
        docutils gives a role: its paragraph's first)."""
        first = rawtext.split("\n", 1)[0]
        if rst_line and first:
            for index in range(rst_line - 1, min(len(self.lines), rst_line + 200)):
                if first in self.lines[index]:
                    return self.line(index + 1)
        return self.line(rst_line)

    def line(self, rst_line: int | None) -> int | None:
        """The script line of line ``rst_line`` (1-based) of the assembled document."""
        if not rst_line:
            return None
        index = min(rst_line, len(self.where)) - 1
        while index >= 0 and self.where[index] is None:
            index -= 1
        return self.where[index] if index >= 0 else None

    def fail(self, line: int | None, message: str) -> TutorialError:
        return TutorialError(self.path, line, message)

    def find_file(self, uri: str, line: int | None) -> Path:
        """A file an image, figure, download or include names, as Sphinx finds it: relative
        to the script's folder, or (``/x``) to the nearest folder above that holds it."""
        folder = self.path.parent
        if uri.startswith("/"):
            for parent in [folder, *folder.parents]:
                if (parent / uri.lstrip("/")).is_file():
                    return parent / uri.lstrip("/")
        elif (folder / uri).is_file():
            return folder / uri
        raise self.fail(line, f"reST: file not found: {uri} (paths are relative to {folder.name}/)")

    def add_file(self, uri: str, line: int | None) -> str:
        """Register a file to copy next to the page; return the name it will have there."""
        path = self.find_file(uri, line).resolve()
        relative = Path(posixpath.relpath(path.as_posix(), self.path.parent.resolve().as_posix()))
        files = self.prose.files
        name = path.name
        counter = 1
        while name in files and files[name] != relative.as_posix():
            counter += 1
            name = f"{counter}-{path.name}"
        files[name] = relative.as_posix()
        return name


def _settings(context: _Context):
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    settings = get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.warning_stream = False
    settings.doctitle_xform = False
    settings.sectsubtitle_xform = False
    settings.docinfo_xform = False
    settings.file_insertion_enabled = True
    settings.raw_enabled = True
    settings.syntax_highlight = "none"
    settings.smart_quotes = True  # Sphinx's default (``smartquotes``: quotes, dashes, ...)
    settings.tutorial_context = context
    return settings


def parse(text: str, context: _Context) -> nodes.document:
    """Parse ``text`` with the standalone reader's transforms, failing on what docutils reports."""
    from docutils.parsers.rst import Parser
    from docutils.readers.standalone import Reader

    parser = Parser()
    reader = Reader(parser=parser)
    messages: list[nodes.system_message] = []
    with _parse_lock:
        document = utils.new_document(str(context.path), _settings(context))
        document.reporter.attach_observer(messages.append)
        parser.parse(text, document)
        document.transformer.populate_from_components((reader, parser))
        document.transformer.apply_transforms()
    for message in messages:
        level = message["level"]
        if level < WARNING_LEVEL:
            continue
        line = context.line(message.get("line")) or _line_of_problem(document, message, context)
        if level >= FAIL_LEVEL or context.strict:
            raise context.fail(line, "reST: " + _message_text(message))
        context.prose.warnings.append({"line": line, "message": "reST: " + _message_text(message)})
    for node in list(document.findall(nodes.system_message)):
        node.parent.remove(node)
    return document


def _message_text(message: nodes.system_message) -> str:
    text = message.children[0].astext() if message.children else message.astext()
    return " ".join(text.split())


def _line_of_problem(document, message, context) -> int | None:
    for problem in document.findall(nodes.problematic):
        if problem.get("refid") in message["ids"]:
            node = problem
            while node is not None and node.line is None:
                node = node.parent
            return context.line(node.line) if node is not None else None
    return None


# -- Writing Markdown ----------------------------------------------------------------------

_MD_ESCAPE = re.compile(r"([\\`*_\[\]$~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(#|>|[-+=]|\d+[.)])(?=\s|$)")


def markdown_escape(text: str) -> str:
    """``text`` as Markdown that shows it as it is (its markup characters escaped)."""
    text = _ENTITY.sub("&amp;", text)
    text = _MD_ESCAPE.sub(r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _code_span(text: str) -> str:
    text = " ".join(text.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _url(uri: str) -> str:
    return uri.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.split("\n"))


def _no_blank_lines(markup: str) -> str:
    """HTML that stays one block for mistune: a blank line would end it."""
    return re.sub(r"\n[ \t]*(?=\n)", "\n<!-- -->", markup.strip())


def slug(text: str) -> str:
    """The id mkdocs-jupyter gives a notebook heading with this text (its ``slugify``)."""
    import unicodedata

    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return quote(re.sub(r"[-\s]+", "-", value), safe="?/:@!$&'()*+,;=")


def markdown_to_html(markdown: str) -> str:
    """Markdown as nbconvert renders it in a notebook (for content that must sit in HTML)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, exclude_anchor_links=True)
    rendered = MarkdownWithMath(renderer=renderer).render(markdown).strip()
    match = re.fullmatch(r"<p>(.*)</p>", rendered, re.S)
    return match.group(1) if match and "<p>" not in match.group(1) else rendered


class _Writer:
    def __init__(self, document: nodes.document, context: _Context):
        self.document = document
        self.context = context
        self.prose = context.prose
        self.level = 0
        self.module = ""
        self.language = "python"
        self.sections: dict[str, str] = {}  # any id of a section -> its heading's id
        for section in document.findall(nodes.section):
            anchor = slug(section[0].astext())
            for node_id in section["ids"]:
                self.sections[node_id] = anchor
        # Ids of explicit targets (`.. _label:`, `:name:`): these become anchors.
        self.labels: dict[str, str] = {}
        for name, explicit in document.nametypes.items():
            node_id = document.nameids.get(name)
            if explicit and node_id and not document.ids[node_id].get("refuri"):
                self.labels[node_id] = name

    # Block level ------------------------------------------------------------------------

    def blocks(self, children) -> str:
        return "\n\n".join(part for part in (self.block(child) for child in children) if part)

    def block(self, node) -> str:
        method = getattr(self, "b_" + type(node).__name__, None)
        if method is None:
            if isinstance(node, nodes.Inline | nodes.Text):
                return self.paragraph_text(self.inline(node))
            if isinstance(node, nodes.TextElement):
                return self.paragraph_text(self.inlines(node))
            return self.blocks(node.children)
        text = method(node)
        anchors = "".join(
            f'<div id="{html.escape(node_id)}"></div>\n'
            for node_id in node.get("ids", [])
            if node_id in self.labels
        )
        if anchors:
            self.record_labels(node)
        return anchors + "\n" + text if anchors and text else anchors + text

    def record_labels(self, node) -> None:
        title = None
        if isinstance(node, nodes.section):
            title = node[0].astext()
        elif isinstance(node, nodes.figure):
            captions = list(node.findall(nodes.caption))
            title = captions[0].astext() if captions else None
        for node_id in node["ids"]:
            if node_id in self.labels:
                label = {"label": self.labels[node_id], "anchor": node_id}
                if title:
                    label["title"] = " ".join(title.split())
                self.prose.labels.append(label)

    def paragraph_text(self, text: str) -> str:
        text = text.strip()
        return _LINE_START.sub(r"\\\1", text)

    def b_document(self, node):
        return self.blocks(node.children)

    def b_section(self, node):
        self.level += 1
        title = self.inlines(node[0]).strip()
        anchor = slug(node[0].astext())
        self.prose.headings.append({"title": " ".join(node[0].astext().split()), "anchor": anchor})
        heading = "#" * min(self.level, 6) + " " + title
        body = self.blocks(node.children[1:])
        self.level -= 1
        return heading + ("\n\n" + body if body else "")

    def b_cell_break(self, node):
        return f"\x00CELL{node['index']}\x00"

    def b_paragraph(self, node):
        return self.paragraph_text(self.inlines(node))

    def b_rubric(self, node):
        return "**" + self.inlines(node).strip() + "**"

    def b_title(self, node):  # a title outside a section (a topic's, handled there)
        return "**" + self.inlines(node).strip() + "**"

    def b_comment(self, node):
        return ""

    b_substitution_definition = b_comment
    b_pending = b_comment
    b_system_message = b_comment
    b_meta = b_comment

    def b_target(self, node):
        return ""  # its ids went to the next element; anchors are written there

    def b_transition(self, node):
        return "---"

    def b_raw(self, node):
        if "html" not in node.get("format", "").split():
            return ""
        return _no_blank_lines(textwrap.dedent(node.astext()))

    def b_literal_block(self, node):
        code = node.astext()
        language = node.get("language") or ""
        classes = [c for c in node.get("classes", []) if c not in ("code", "literal-block")]
        if not language and classes:
            language = classes[0]
        if not language:
            language = self.language
        language = _pygments_name(language, code)
        longest = max((len(run) for run in re.findall(r"^`{3,}", code, re.M)), default=2)
        fence = "`" * (longest + 1)
        block = f"{fence}{language}\n{code}\n{fence}"
        caption = node.get("caption")
        return f"**{markdown_escape(caption)}**\n\n{block}" if caption else block

    def b_doctest_block(self, node):
        return f"```pycon\n{node.astext()}\n```"

    def b_math_block(self, node):
        """Display math as Sphinx's MathJax output wraps it (``split`` for a multi-line
        equation, ``aligned`` for several), inside one ``equation*``/``align*`` environment:
        nbconvert keeps an environment as it is, and the page typesets it as display math."""
        latex = node.astext().strip()
        if node.get("nowrap") and latex.startswith("\\begin"):
            return latex
        parts = [part.strip() for part in latex.split("\n\n") if part.strip()]
        if len(parts) > 1:
            body = r" \\ ".join(parts)
            return rf"\begin{{align*}}\begin{{aligned}}{body}\end{{aligned}}\end{{align*}}"
        body = rf"\begin{{split}}{latex}\end{{split}}" if r"\\" in latex else latex
        return rf"\begin{{equation*}}{body}\end{{equation*}}"

    def b_bullet_list(self, node):
        return self.list_items(node, lambda index: "- ")

    def b_enumerated_list(self, node):
        start = node.get("start", 1)
        width = len(str(start + len(node.children)))
        return self.list_items(node, lambda index: f"{start + index}.".ljust(width + 1) + " ")

    def list_items(self, node, marker) -> str:
        items = []
        simple = True
        for index, item in enumerate(node.children):
            body_parts = []
            for child in item.children:
                text = self.block(child)
                if not text:
                    continue
                if body_parts and isinstance(child, nodes.bullet_list | nodes.enumerated_list):
                    body_parts[-1] += "\n" + text
                else:
                    body_parts.append(text)
            simple = simple and len(body_parts) <= 1
            body = "\n\n".join(body_parts) or "&nbsp;"
            prefix = marker(index)
            lines = body.split("\n")
            items.append(
                prefix
                + lines[0]
                + ("\n" + _indent("\n".join(lines[1:]), " " * len(prefix)) if lines[1:] else "")
            )
        return ("\n" if simple else "\n\n").join(items)

    def b_definition_list(self, node):
        return self.definitions(node, glossary=False)

    def definitions(self, node, *, glossary: bool) -> str:
        parts = ["<dl>"]
        for item in node.children:
            terms = [child for child in item.children if isinstance(child, nodes.term)]
            classifiers = [child for child in item.children if isinstance(child, nodes.classifier)]
            for term in terms:
                term_html = markdown_to_html(self.inlines(term))
                if classifiers:
                    term_html += " : " + " : ".join(
                        markdown_to_html(self.inlines(c)) for c in classifiers
                    )
                attribute = ""
                if glossary:
                    anchor = "term-" + nodes.make_id(term.astext())
                    attribute = f' id="{anchor}"'
                    self.prose.labels.append(
                        {
                            "label": "term:" + " ".join(term.astext().lower().split()),
                            "anchor": anchor,
                            "title": term.astext(),
                        }
                    )
                parts.append(f"<dt{attribute}>{term_html}</dt>")
            definition = [child for child in item.children if isinstance(child, nodes.definition)]
            body = self.blocks(definition[0].children) if definition else ""
            parts.append(f"<dd>\n\n{body}\n\n</dd>" if body else "<dd></dd>")
        parts.append("</dl>")
        return "\n".join(parts)

    def b_glossary(self, node):
        lists = [child for child in node.children if isinstance(child, nodes.definition_list)]
        return "\n\n".join(self.definitions(item, glossary=True) for item in lists)

    def b_field_list(self, node):
        parts = ['<dl class="field-list">']
        for field_node in node.children:
            name, body = field_node.children[0], field_node.children[1]
            parts.append(f"<dt>{markdown_to_html(self.inlines(name))}</dt>")
            parts.append(f"<dd>\n\n{self.blocks(body.children)}\n\n</dd>")
        parts.append("</dl>")
        return "\n".join(parts)

    def b_option_list(self, node):
        parts = ['<dl class="option-list">']
        for item in node.children:
            group, description = item.children[0], item.children[1]
            parts.append(f"<dt><code>{html.escape(group.astext())}</code></dt>")
            parts.append(f"<dd>\n\n{self.blocks(description.children)}\n\n</dd>")
        parts.append("</dl>")
        return "\n".join(parts)

    def b_line_block(self, node):
        lines = []
        for line in node.children:
            if isinstance(line, nodes.line_block):
                lines.append(self.b_line_block(line).replace("<br>", "<br>&emsp;"))
            else:
                lines.append(self.inlines(line).strip() or "&nbsp;")
        return "<br>".join(lines)

    def b_block_quote(self, node):
        body = self.blocks(node.children)
        return "\n".join("> " + line if line else ">" for line in body.split("\n"))

    def b_attribution(self, node):
        return "\N{EM DASH} " + self.inlines(node).strip()

    def b_container(self, node):
        body = self.blocks(node.children)
        classes = " ".join(node.get("classes", []))
        if not classes:
            return body
        return f'<div class="{html.escape(classes)}">\n\n{body}\n\n</div>'

    b_compound = b_container

    def admonition(self, kind: str, title_markdown: str, body: str, extra: str = "") -> str:
        title = markdown_to_html(title_markdown)
        classes = " ".join(dict.fromkeys(part for part in ("admonition", kind, extra) if part))
        return f'<div class="{classes}"><p class="admonition-title">{title}</p>\n\n{body}\n\n</div>'

    def b_admonition(self, node):
        classes = [c for c in node.get("classes", []) if not c.startswith("admonition-")]
        if "seealso" in classes:
            kind, title = ADMONITIONS["seealso"]
            return self.admonition(
                kind, markdown_escape(title), self.blocks(node.children), "seealso"
            )
        title_node = node[0] if node.children and isinstance(node[0], nodes.title) else None
        title = self.inlines(title_node) if title_node else "Note"
        known = [
            c
            for c in classes
            if c in ADMONITIONS
            or c
            in (
                "note",
                "abstract",
                "info",
                "success",
                "question",
                "failure",
                "bug",
                "example",
                "quote",
            )
        ]
        kind = (
            ADMONITIONS[known[0]][0]
            if known and known[0] in ADMONITIONS
            else (known[0] if known else "note")
        )
        body = self.blocks(node.children[1:] if title_node else node.children)
        return self.admonition(kind, title, body)

    def _named_admonition(self, node):
        name = type(node).__name__
        kind, title = ADMONITIONS[name]
        return self.admonition(kind, markdown_escape(title), self.blocks(node.children), name)

    b_note = b_tip = b_hint = b_important = b_warning = _named_admonition
    b_caution = b_attention = b_danger = b_error = _named_admonition

    def b_topic(self, node):
        title_node = node[0] if node.children and isinstance(node[0], nodes.title) else None
        title = self.inlines(title_node) if title_node else "Contents"
        body = self.blocks(node.children[1:] if title_node else node.children)
        return self.admonition("abstract", title, body, "topic")

    def b_sidebar(self, node):
        title_node = node[0] if node.children and isinstance(node[0], nodes.title) else None
        title = self.inlines(title_node) if title_node else "Aside"
        rest = [c for c in node.children if c is not title_node]
        return self.admonition("info", title, self.blocks(rest), "sidebar")

    def b_version_note(self, node):
        label = "*" + markdown_escape(_VERSION_TEXT[node["kind"]].format(node["version"])) + "*"
        body = self.blocks(node.children)
        if not body:
            return label
        if node.children and isinstance(node[0], nodes.paragraph):
            return label + ": " + body
        return label + ":\n\n" + body

    def b_only(self, node):
        return self.blocks(node.children) if _only_holds(node["expr"]) else ""

    def b_current_module(self, node):
        self.module = node["module"]
        return ""

    def b_highlight_language(self, node):
        self.language = node["language"]
        return ""

    def b_image(self, node):
        return self.inline(node)

    def b_figure(self, node):
        parts = []
        for child in node.children:
            if isinstance(child, nodes.caption):
                parts.append(f"<figcaption>\n\n{self.inlines(child).strip()}\n\n</figcaption>")
            elif isinstance(child, nodes.legend):
                parts.append(self.blocks(child.children))
            else:
                parts.append(self.block(child))
        style = f' style="width: {node["width"]}"' if node.get("width") else ""
        align = f" align-{node['align']}" if node.get("align") else ""
        body = "\n\n".join(part for part in parts if part)
        return f'<figure class="rst-figure{align}"{style}>\n\n{body}\n\n</figure>'

    def b_table(self, node):
        title = next((c for c in node.children if isinstance(c, nodes.title)), None)
        rows = ["<table>"]
        if title is not None:
            rows.append(f"<caption>{markdown_to_html(self.inlines(title))}</caption>")
        for group in node.findall(nodes.tgroup):
            for part in group.children:
                if isinstance(part, nodes.thead | nodes.tbody):
                    tag = "thead" if isinstance(part, nodes.thead) else "tbody"
                    cell = "th" if tag == "thead" else "td"
                    rows.append(f"<{tag}>")
                    for row in part.children:
                        cells = []
                        for entry in row.children:
                            span = ""
                            if entry.get("morecols"):
                                span += f' colspan="{entry["morecols"] + 1}"'
                            if entry.get("morerows"):
                                span += f' rowspan="{entry["morerows"] + 1}"'
                            content = (
                                markdown_to_html(self.blocks(entry.children))
                                if entry.children
                                else ""
                            )
                            cells.append(f"<{cell}{span}>{content}</{cell}>")
                        rows.append("<tr>" + "".join(cells) + "</tr>")
                    rows.append(f"</{tag}>")
        rows.append("</table>")
        return _no_blank_lines("\n".join(rows))

    def b_footnote(self, node):
        label = node[0].astext() if node.children and isinstance(node[0], nodes.label) else ""
        body = self.blocks([c for c in node.children if not isinstance(c, nodes.label)])
        anchors = "".join(
            f'<span id="{html.escape(i)}"></span>' for i in node["ids"] if i not in self.labels
        )
        return f"{anchors}\\[{markdown_escape(label)}\\] {body}"

    b_citation = b_footnote

    # Inline level -----------------------------------------------------------------------

    def inlines(self, node) -> str:
        return "".join(self.inline(child) for child in node.children)

    def inline(self, node) -> str:
        if isinstance(node, nodes.Text):
            return markdown_escape(node.astext().replace("\n", " "))
        method = getattr(self, "i_" + type(node).__name__, None)
        if method is None:
            return self.inlines(node)
        return method(node)

    def i_emphasis(self, node):
        content = self.inlines(node)
        return f"*{content}*" if content.strip() else content

    i_title_reference = i_emphasis

    def i_strong(self, node):
        content = self.inlines(node)
        return f"**{content}**" if content.strip() else content

    def i_literal(self, node):
        return _code_span(node.astext())

    def i_math(self, node):
        latex = " ".join(node.astext().split())
        return f"${latex}$" if latex else ""

    def i_reference(self, node):
        content = self.inlines(node)
        if node.get("refuri") is not None:
            uri = node["refuri"]
            if _is_relative(uri):  # checked once the site's pages are known (publish.py)
                line = self.context.locate(node.line or _line_above(node), node.rawsource)
                self.prose.links.append({"uri": uri, "line": line})
            return f"[{content}]({_url(uri)})"
        if node.get("refid"):
            return f"[{content}](#{self.sections.get(node['refid'], node['refid'])})"
        return content

    def i_target(self, node):
        anchors = "".join(
            f'<span id="{html.escape(i)}"></span>'
            for i in node.get("ids", [])
            if not node.get("refuri")
        )
        return anchors + self.inlines(node)

    def i_footnote_reference(self, node):
        return f"<sup>[{markdown_escape(node.astext())}](#{node.get('refid', '')})</sup>"

    def i_citation_reference(self, node):
        return f"[\\[{markdown_escape(node.astext())}\\]](#{node.get('refid', '')})"

    def i_abbreviation(self, node):
        title = html.escape(node.get("explanation", ""), quote=True)
        return f'<abbr title="{title}">{self.inlines(node)}</abbr>' if title else self.inlines(node)

    i_acronym = i_abbreviation

    def i_superscript(self, node):
        return f"<sup>{self.inlines(node)}</sup>"

    def i_subscript(self, node):
        return f"<sub>{self.inlines(node)}</sub>"

    def i_raw(self, node):
        return node.astext() if "html" in node.get("format", "").split() else ""

    def i_image(self, node):
        uri = node["uri"]
        line = self.context.line(node.line or (node.parent.line if node.parent else None))
        if not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", uri):
            uri = self.context.add_file(uri, line)
        alt = node.get("alt", "")
        attributes = {k: node[k] for k in ("width", "height") if node.get(k)}
        if node.get("scale") and not attributes:
            attributes["width"] = f"{node['scale']}%"
        if attributes or node.get("align") or node.get("classes"):
            extra = "".join(f' {k}="{html.escape(str(v))}"' for k, v in attributes.items())
            classes = " ".join(
                node.get("classes", []) + ([f"align-{node['align']}"] if node.get("align") else [])
            )
            css = f' class="{html.escape(classes)}"' if classes else ""
            return f'<img src="{html.escape(uri)}" alt="{html.escape(alt)}"{extra}{css}>'
        return f"![{markdown_escape(alt)}]({_url(uri)})"

    def i_problematic(self, node):
        """Markup docutils could not make sense of: a warning (level 2) reaches the page only
        in a tolerant conversion, where Sphinx shows the markup as its text."""
        if self.context.strict:
            raise self.context.fail(
                self.context.line(node.line), f"reST: cannot render {node.astext()!r}"
            )
        return markdown_escape(node.astext())

    def i_xref(self, node):
        index = len(self.prose.references)
        self.prose.references.append(
            {
                "role": node["role"],
                "target": node["target"],
                "line": self.context.locate(node.line, node.rawsource),
                "explicit": bool(node["explicit"]),
            }
        )
        return f"[{markdown_escape(node.astext())}](xref:{index})"

    def i_api_ref(self, node):
        display = _code_span(node.astext())
        if node.get("nolink"):
            return display
        resolved = apiref.resolve_role(node["role"], node["target"], self.module)
        if resolved is None:
            return display
        fullname, url = resolved
        self.prose.api.setdefault(fullname, [url])
        return f"[{display}]({url})"

    def i_download_ref(self, node):
        name = self.context.add_file(node["target"], self.context.locate(node.line, node.rawsource))
        return f"[{markdown_escape(node.astext())}]({_url(name)})"


def _is_relative(uri: str) -> bool:
    """A link to somewhere on this site: no scheme, not protocol-relative, not an anchor
    of the page itself."""
    return not re.match(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|#)", uri) and bool(uri.strip())


def _line_above(node) -> int | None:
    """The line of the nearest element around ``node`` that has one."""
    while node is not None and node.line is None:
        node = node.parent
    return node.line if node is not None else None


def _only_holds(expression: str) -> bool:
    """Evaluate ``.. only::``'s expression for Sphinx's HTML builder."""
    python = re.sub(
        r"[A-Za-z_][\w-]*",
        lambda m: (
            m.group(0) if m.group(0) in ("and", "or", "not") else str(m.group(0) in HTML_TAGS)
        ),
        expression,
    )
    if not re.fullmatch(r"[\sA-Za-z()]*", python):
        return True
    try:
        return bool(eval(python, {"__builtins__": {}}))  # only True/False/and/or/not/()
    except SyntaxError:
        return True


def _pygments_name(language: str, code: str) -> str:
    """A Pygments lexer name nbconvert can highlight with (``::`` blocks: Python if they parse)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    language = language.strip().lower()
    if language in ("default", "python3", "py3", "py", ""):
        language = "python"
    if language == "python":
        try:
            ast.parse(code)
        except SyntaxError:
            return "pycon" if code.lstrip().startswith(">>>") else "text"
        return "python"
    if language in ("none", "guess"):
        return "text"
    try:
        get_lexer_by_name(language)
    except ClassNotFound:
        return "text"
    return language


def docstring_lines(source: str) -> tuple[str, int]:
    """The module docstring as written (indentation removed, blank lines kept) and the script
    line that its first line is on."""
    tree = ast.parse(source)
    node = tree.body[0]
    raw = node.value.value
    lines = raw.expandtabs().split("\n")
    margin = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    text = "\n".join([lines[0].strip(), *(line[margin:] for line in lines[1:])])
    return text, node.lineno


def render_prose(path: Path, blocks: list[tuple[str, int]], *, strict: bool = True) -> Prose:
    """Render the text ``blocks`` of the script at ``path`` (each: reST and the script line of
    its first line) as one document; ``Prose.cells`` holds one Markdown string per block.
    ``strict``: a docutils warning fails, as an error does (else it is kept in
    ``Prose.warnings``)."""
    lines: list[str] = []
    where: list[int | None] = []
    for index, (text, first_line) in enumerate(blocks):
        if index:
            lines += ["", f".. {_CELL_DIRECTIVE}:: {index}", ""]
            where += [None, first_line, None]
        for offset, line in enumerate(text.split("\n")):
            lines.append(line)
            where.append(first_line + offset)
    context = _Context(path, where, lines, strict=strict)
    document = parse("\n".join(lines) + "\n", context)
    markdown = _Writer(document, context).blocks(document.children)
    parts = _CELL_MARK.split(markdown)
    cells = [""] * len(blocks)
    cells[0] = parts[0].strip()
    for index, text in zip(parts[1::2], parts[2::2], strict=True):
        cells[int(index)] = text.strip()
    context.prose.cells = [re.sub(r"\n{3,}", "\n\n", cell) for cell in cells]
    return context.prose


def render_fragment(text: str, path: Path, first_line: int = 1, *, strict: bool = True) -> str:
    """One piece of reST (a gallery section's header, say) as Markdown."""
    return render_prose(path, [(text, first_line)], strict=strict).cells[0]
