"""Long outputs stay readable: a page shows their ends, the download has them whole (bound.py)."""

from __future__ import annotations

import base64
import io
import json
import re

import nbformat
import pytest
from test_pipeline import mkdocs_build, mkdocs_project

from tutorial_pipeline import bound

pytestmark = pytest.mark.docs


def _notebook(*outputs) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x", outputs=list(outputs))
    cell.metadata["script_line"] = 12
    return nbformat.v4.new_notebook(cells=[cell])


def test_a_long_stream_keeps_its_first_and_last_lines_and_says_what_it_left_out():
    text = "".join(f"line {i}\n" for i in range(1000))
    notebook = _notebook(nbformat.v4.new_output("stream", name="stdout", text=text))
    page, truncations = bound.bound_notebook(notebook)
    shown = page.cells[0].outputs[0].text.splitlines()
    assert shown[: bound.HEAD_LINES] == [f"line {i}" for i in range(bound.HEAD_LINES)]
    assert shown[-bound.TAIL_LINES :] == [f"line {i}" for i in range(950, 1000)]
    assert shown[bound.HEAD_LINES].startswith("[... 850 lines left out here: the downloadable")
    assert len(shown) == bound.HEAD_LINES + 1 + bound.TAIL_LINES
    assert notebook.cells[0].outputs[0].text == text, "the notebook itself is left whole"
    assert truncations == [bound.Truncation(12, "text", "150 of 1,000 lines", "9 KB")]


def test_short_outputs_and_one_long_line_under_the_byte_limit_are_left_alone():
    notebook = _notebook(
        nbformat.v4.new_output("stream", name="stdout", text="ok\n" * bound.MAX_LINES),
        nbformat.v4.new_output("stream", name="stdout", text="x" * (bound.MAX_BYTES - 1)),
    )
    page, truncations = bound.bound_notebook(notebook)
    assert page == notebook and truncations == []


def test_a_huge_single_line_keeps_characters_from_each_end():
    text = "0123456789" * 50_000
    notebook = _notebook(nbformat.v4.new_output("stream", name="stdout", text=text))
    page, (truncation,) = bound.bound_notebook(notebook)
    shown = page.cells[0].outputs[0].text
    assert len(shown.encode()) <= bound.MAX_BYTES
    assert shown.startswith(text[:1000]) and shown.endswith(text[-1000:])
    assert re.search(r"\[\.\.\. \d+ KB left out here", shown)
    assert truncation.kind == "text" and truncation.total == "500 KB"


def test_a_page_of_many_long_outputs_stays_under_its_budget():
    text = "".join(f"{i:>90}\n" for i in range(1000))  # 91 KB each, 1,000 lines
    notebook = _notebook(
        *[nbformat.v4.new_output("stream", name="stdout", text=text) for _ in range(40)]
    )
    page, truncations = bound.bound_notebook(notebook)
    assert len(truncations) == 40
    total = sum(len(o.text.encode()) for o in page.cells[0].outputs)
    assert total < bound.PAGE_BYTES + 2 * bound.MAX_BYTES


def test_a_big_html_result_shows_as_its_plain_text_and_a_big_image_is_scaled_down():
    from PIL import Image

    image = Image.new("RGB", (4000, 1000), "white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    html = "<table>" + "<tr><td>1</td></tr>" * 20_000 + "</table>"
    notebook = _notebook(
        nbformat.v4.new_output(
            "execute_result", data={"text/html": html, "text/plain": "a table"}, execution_count=1
        ),
        nbformat.v4.new_output(
            "display_data", data={"image/png": base64.b64encode(buffer.getvalue()).decode()}
        ),
    )
    page, truncations = bound.bound_notebook(notebook)
    assert page.cells[0].outputs[0].data == {"text/plain": "a table"}
    small = Image.open(io.BytesIO(base64.b64decode(page.cells[0].outputs[1].data["image/png"])))
    assert small.size == (bound.MAX_IMAGE_WIDTH, 400)
    assert [t.kind for t in truncations] == ["html", "image"]
    assert truncations[1].total.startswith("4000x1000 px")


def test_a_few_replacement_characters_are_still_text():
    text = "decoded: ab\ufffdcd \ufffd and the rest of a long enough line of text\n"
    notebook = _notebook(nbformat.v4.new_output("stream", name="stdout", text=text))
    page, truncations = bound.bound_notebook(notebook)
    assert page.cells[0].outputs[0].text == text and truncations == []


def test_binary_output_is_one_line_on_the_page():
    notebook = _notebook(
        nbformat.v4.new_output("stream", name="stdout", text="\x00\x01\ufffd\ufffdabc")
    )
    page, (truncation,) = bound.bound_notebook(notebook)
    assert page.cells[0].outputs[0].text == (
        "[7 characters of output that are not text (4 undecodable bytes or control codes): "
        "the downloadable notebook (.ipynb) has them as received]\n"
    )
    assert truncation.kind == "binary"


def test_a_tutorial_that_prints_300000_lines_publishes_a_small_page_and_a_whole_download(
    tmp_path,
):
    body = """\
    # %%
    # Many lines
    # ----------
    for i in range(300_000):
        print("line", i)

    # %%
    # Bytes that are not text
    # -----------------------
    # What the kernel sends for bytes a library writes to the standard output.
    print(bytes(range(256)).decode("utf-8", errors="replace"))
    """
    project = mkdocs_project(tmp_path, {"loud.py": body})
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    page = project / "site/tutorials/loud/index.html"
    assert page.stat().st_size < 1_000_000
    html = page.read_text()
    assert "line 99\n" in html and "line 299999" in html and "line 150000" not in html
    assert "299,850 lines left out here" in html
    assert "characters of output that are not text" in html
    download = json.loads((project / "site/tutorials/loud/loud.ipynb").read_text())
    streams = [
        o["text"] for c in download["cells"] if c["cell_type"] == "code" for o in c["outputs"]
    ]
    assert "".join(streams[0]).count("\n") == 300_000
    report = (project / "site/tutorials/report/index.html").read_text()
    assert "Outputs shown in part" in report
    assert re.search(r"<code>loud\.py:\d+</code></td>\s*<td>text</td>\s*<td>150 of 300,000", report)
    assert re.search(r"<code>loud\.py:\d+</code></td>\s*<td>binary</td>", report)
