// dlopen/dlsym resolution of the driver, NVRTC, cuBLASLt and NCCL entry points declared in ccuda.h.
#include "ccuda.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void *ccuda_dlopen(const char *path) {
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

void ccuda_last_dl_error(char *buffer, size_t size) {
    if (size == 0) return;
    const char *message = dlerror();
    if (message == NULL) message = "";
    strncpy(buffer, message, size - 1);
    buffer[size - 1] = '\0';
}

// Tries each name in order; the driver exports both the legacy and the `_v2` symbol for entry points whose
// ABI changed (64-bit sizes), and only the `_v2` one has the signature declared in ccuda.h.
static void *resolve(void *library, const char *const *names) {
    for (; *names != NULL; ++names) {
        void *symbol = dlsym(library, *names);
        if (symbol != NULL) return symbol;
    }
    return NULL;
}

_Static_assert(sizeof(CCUDALaunchAttribute) == 72, "CUlaunchAttribute layout");
_Static_assert(sizeof(CCUDALaunchConfig) == 56, "CUlaunchConfig layout");

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define REQUIRE(field, ...)                                                    \
    do {                                                                       \
        void *symbol = resolve(library, NAMES(__VA_ARGS__));                   \
        if (symbol == NULL) {                                                  \
            free(api);                                                         \
            return NAMES(__VA_ARGS__)[0];                                      \
        }                                                                      \
        memcpy(&api->field, &symbol, sizeof(symbol));                          \
    } while (0)
#define OPTIONAL(field, ...)                                                   \
    do {                                                                       \
        void *symbol = resolve(library, NAMES(__VA_ARGS__));                   \
        memcpy(&api->field, &symbol, sizeof(symbol));                          \
    } while (0)

const char *ccuda_resolve_driver(void *library, const CCUDADriverAPI **out) {
    *out = NULL;
    CCUDADriverAPI *api = calloc(1, sizeof(CCUDADriverAPI));
    if (api == NULL) return "(out of memory)";
    REQUIRE(cuInit, "cuInit");
    REQUIRE(cuDriverGetVersion, "cuDriverGetVersion");
    REQUIRE(cuGetErrorName, "cuGetErrorName");
    REQUIRE(cuGetErrorString, "cuGetErrorString");
    REQUIRE(cuDeviceGetCount, "cuDeviceGetCount");
    REQUIRE(cuDeviceGet, "cuDeviceGet");
    REQUIRE(cuDeviceGetName, "cuDeviceGetName");
    REQUIRE(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    REQUIRE(cuDeviceTotalMem, "cuDeviceTotalMem_v2");
    REQUIRE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    REQUIRE(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
    REQUIRE(cuCtxSetCurrent, "cuCtxSetCurrent");
    REQUIRE(cuCtxSynchronize, "cuCtxSynchronize");
    OPTIONAL(cuDeviceCanAccessPeer, "cuDeviceCanAccessPeer");
    OPTIONAL(cuCtxEnablePeerAccess, "cuCtxEnablePeerAccess");
    REQUIRE(cuMemGetInfo, "cuMemGetInfo_v2");
    REQUIRE(cuMemAlloc, "cuMemAlloc_v2");
    REQUIRE(cuMemFree, "cuMemFree_v2");
    REQUIRE(cuMemAllocHost, "cuMemAllocHost_v2");
    REQUIRE(cuMemFreeHost, "cuMemFreeHost");
    REQUIRE(cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    REQUIRE(cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    REQUIRE(cuMemcpyDtoD, "cuMemcpyDtoD_v2");
    REQUIRE(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    REQUIRE(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    REQUIRE(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    REQUIRE(cuMemsetD8Async, "cuMemsetD8Async");
    REQUIRE(cuMemsetD32Async, "cuMemsetD32Async");
    REQUIRE(cuStreamCreate, "cuStreamCreate");
    REQUIRE(cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy");
    REQUIRE(cuStreamSynchronize, "cuStreamSynchronize");
    REQUIRE(cuEventCreate, "cuEventCreate");
    REQUIRE(cuEventDestroy, "cuEventDestroy_v2", "cuEventDestroy");
    REQUIRE(cuEventRecord, "cuEventRecord");
    REQUIRE(cuEventSynchronize, "cuEventSynchronize");
    REQUIRE(cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime");
    REQUIRE(cuModuleLoadData, "cuModuleLoadData");
    REQUIRE(cuModuleUnload, "cuModuleUnload");
    REQUIRE(cuModuleGetFunction, "cuModuleGetFunction");
    REQUIRE(cuFuncSetAttribute, "cuFuncSetAttribute");
    REQUIRE(cuLaunchKernel, "cuLaunchKernel");
    OPTIONAL(cuLaunchKernelEx, "cuLaunchKernelEx");
    REQUIRE(cuStreamBeginCapture, "cuStreamBeginCapture_v2");
    REQUIRE(cuStreamEndCapture, "cuStreamEndCapture");
    REQUIRE(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
    REQUIRE(cuGraphLaunch, "cuGraphLaunch");
    REQUIRE(cuGraphExecDestroy, "cuGraphExecDestroy");
    REQUIRE(cuGraphDestroy, "cuGraphDestroy");
    *out = api;
    return NULL;
}

const char *ccuda_resolve_nvrtc(void *library, const CCUDANVRTCAPI **out) {
    *out = NULL;
    CCUDANVRTCAPI *api = calloc(1, sizeof(CCUDANVRTCAPI));
    if (api == NULL) return "(out of memory)";
    REQUIRE(nvrtcGetErrorString, "nvrtcGetErrorString");
    REQUIRE(nvrtcVersion, "nvrtcVersion");
    REQUIRE(nvrtcCreateProgram, "nvrtcCreateProgram");
    REQUIRE(nvrtcDestroyProgram, "nvrtcDestroyProgram");
    REQUIRE(nvrtcCompileProgram, "nvrtcCompileProgram");
    REQUIRE(nvrtcGetPTXSize, "nvrtcGetPTXSize");
    REQUIRE(nvrtcGetPTX, "nvrtcGetPTX");
    REQUIRE(nvrtcGetCUBINSize, "nvrtcGetCUBINSize");
    REQUIRE(nvrtcGetCUBIN, "nvrtcGetCUBIN");
    REQUIRE(nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
    REQUIRE(nvrtcGetProgramLog, "nvrtcGetProgramLog");
    OPTIONAL(nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs");
    OPTIONAL(nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs");
    *out = api;
    return NULL;
}

const char *ccuda_resolve_blaslt(void *library, const CCUDABlasLtAPI **out) {
    *out = NULL;
    CCUDABlasLtAPI *api = calloc(1, sizeof(CCUDABlasLtAPI));
    if (api == NULL) return "(out of memory)";
    REQUIRE(cublasLtGetVersion, "cublasLtGetVersion");
    REQUIRE(cublasLtCreate, "cublasLtCreate");
    REQUIRE(cublasLtDestroy, "cublasLtDestroy");
    REQUIRE(cublasLtMatmulDescCreate, "cublasLtMatmulDescCreate");
    REQUIRE(cublasLtMatmulDescDestroy, "cublasLtMatmulDescDestroy");
    REQUIRE(cublasLtMatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute");
    REQUIRE(cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate");
    REQUIRE(cublasLtMatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy");
    REQUIRE(cublasLtMatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate");
    REQUIRE(cublasLtMatmulPreferenceDestroy, "cublasLtMatmulPreferenceDestroy");
    REQUIRE(cublasLtMatmulPreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute");
    REQUIRE(cublasLtMatmulAlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic");
    REQUIRE(cublasLtMatmul, "cublasLtMatmul");
    OPTIONAL(cublasLtGetStatusString, "cublasLtGetStatusString");
    *out = api;
    return NULL;
}

const char *ccuda_resolve_nccl(void *library, const CCUDANCCLAPI **out) {
    *out = NULL;
    CCUDANCCLAPI *api = calloc(1, sizeof(CCUDANCCLAPI));
    if (api == NULL) return "(out of memory)";
    REQUIRE(ncclGetVersion, "ncclGetVersion");
    REQUIRE(ncclGetErrorString, "ncclGetErrorString");
    REQUIRE(ncclCommInitAll, "ncclCommInitAll");
    REQUIRE(ncclAllReduce, "ncclAllReduce");
    OPTIONAL(ncclGetLastError, "ncclGetLastError");

    *out = api;
    return NULL;
}
