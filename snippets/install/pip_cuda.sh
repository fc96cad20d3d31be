# NVIDIA GPU, CUDA 12.8 (Linux and Windows)
pip3 install torch torchvision --index-url https://download.pytorch.org/whl/cu128
