// The x86 kernels for AVX2 + FMA + F16C (see KernelsX86.h).
#include "Internal.h"

#if CQK_X86
#define CQK_TARGET __attribute__((target("avx2,fma,f16c")))
#define CQK_VNNI 0
#define CQK_NAME(x) cqk_avx2_##x
#include "KernelsX86.h"
#endif
