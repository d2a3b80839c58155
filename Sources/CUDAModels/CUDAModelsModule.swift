/// The device-resident causal LM on CUDA lives in this module (see CUDACausalLM).
enum CUDAModelsModule {}
