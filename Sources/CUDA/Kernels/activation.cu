// Gated MLP activations: act(gate) * up, computed in fp32.
#include "common.cuh"

template <typename T> __device__ void gated_act(const SGLGatedActParams &p) {
    size_t total = (size_t)p.tokens * p.inner;
    const T *in = (const T *)p.gate_up;
    T *out = (T *)p.out;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += (size_t)gridDim.x * blockDim.x) {
        size_t t = idx / p.inner, i = idx - t * p.inner;
        const T *row = in + t * 2 * p.inner;
        // The activation is rounded to the element type before the product, as a torch module chain does.
        float a = round_to<T>(activate(to_float(row[i]), p.activation));
        out[idx] = from_float<T>(a * to_float(row[p.inner + i]));
    }
}

extern "C" __global__ void sgl_gated_act_f32(const __grid_constant__ SGLGatedActParams p) { sgl_pdl_begin(); gated_act<float>(p); }
extern "C" __global__ void sgl_gated_act_bf16(const __grid_constant__ SGLGatedActParams p) { sgl_pdl_begin(); gated_act<bf16>(p); }
