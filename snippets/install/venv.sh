# Linux and macOS; on Windows the second line is .venv\Scripts\activate
python -m venv .venv
source .venv/bin/activate
