// The x86 kernels for AVX-512 F/BW/VL with VNNI, on 256-bit vectors (see KernelsX86.h).
#include "Internal.h"

#if CQK_X86
#define CQK_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define CQK_VNNI 1
#define CQK_NAME(x) cqk_avx512_##x
#include "KernelsX86.h"
#endif
