# CPU only
pip3 install torch torchvision --index-url https://download.pytorch.org/whl/cpu
