# macOS on Apple silicon: the wheels on PyPI include the MPS backend
pip3 install torch torchvision
