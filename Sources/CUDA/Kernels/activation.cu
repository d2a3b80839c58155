// Gated MLP activations: act(gate) * up, computed in fp32.
#include "common.cuh"

// Grid (x: parts of a row, y: tokens, looping past 65535): 16-byte loads and stores when the width allows, no
// integer division per element.
template <typename T> __device__ void gated_act(const SGLGatedActParams &p) {
    constexpr int VEC = 16 / sizeof(T);
    const bool vector = p.inner % VEC == 0;
    const int width = vector ? p.inner / VEC : p.inner;
    for (int t = blockIdx.y; t < p.tokens; t += gridDim.y) {
        const T *gate = (const T *)p.gate_up + (size_t)t * 2 * p.inner, *up = gate + p.inner;
        T *out = (T *)p.out + (size_t)t * p.inner;
        for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < width; j += gridDim.x * blockDim.x) {
            // The activation is rounded to the element type before the product, as a torch module chain does.
            if (vector) {
                float g[VEC], u[VEC];
                load16(gate + (size_t)j * VEC, g);
                load16(up + (size_t)j * VEC, u);
#pragma unroll
                for (int e = 0; e < VEC; ++e) g[e] = round_to<T>(activate(g[e], p.activation)) * u[e];
                store16(out + (size_t)j * VEC, g);
            } else {
                const float a = round_to<T>(activate(to_float(gate[j]), p.activation));
                out[j] = from_float<T>(a * to_float(up[j]));
            }
        }
    }
}

extern "C" __global__ void sgl_gated_act_f32(const __grid_constant__ SGLGatedActParams p) { sgl_pdl_begin(); gated_act<float>(p); }
extern "C" __global__ void sgl_gated_act_bf16(const __grid_constant__ SGLGatedActParams p) { sgl_pdl_begin(); gated_act<bf16>(p); }
