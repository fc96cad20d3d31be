# what this site's tutorials and posts import besides torch and torchvision
pip3 install numpy matplotlib scikit-learn tqdm lightning hydra-core onnx onnxscript onnxruntime
