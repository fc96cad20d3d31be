# uv makes .venv in the current folder
uv venv
source .venv/bin/activate
