# AMD GPU, ROCm 6.4 (Linux only)
pip3 install torch torchvision --index-url https://download.pytorch.org/whl/rocm6.4
