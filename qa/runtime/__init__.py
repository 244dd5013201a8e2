"""What the embedder and the reader share to run: one thread policy (:mod:`qa.runtime.threads`) and one
ONNX export cache with its sessions (:mod:`qa.runtime.onnx`)."""
