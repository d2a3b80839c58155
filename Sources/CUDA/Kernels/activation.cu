// Gated MLP activations: act(gate) * up, computed in fp32.
#include "common.cuh"

__device__ __forceinline__ float activate(float g, int kind) {
    switch (kind) {
    case SGL_ACT_GELU_TANH: {
        float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        return 0.5f * g * (1.f + tanhf(inner));
    }
    case SGL_ACT_GELU:
        return 0.5f * g * (1.f + erff(g * 0.7071067811865476f));
    default:
        return g / (1.f + expf(-g));
    }
}

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
