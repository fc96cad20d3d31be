# the selector's command, with "pip3" replaced by "uv pip"
uv pip install torch torchvision --index-url https://download.pytorch.org/whl/cu128
# or let uv pick the index from the GPU driver it finds (CPU if none)
uv pip install torch torchvision --torch-backend=auto
