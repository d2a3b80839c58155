// Our own minimal declarations of the CUDA driver API, NVRTC, cuBLASLt and NCCL subset the CUDA backend uses.
// No CUDA header or library is needed at build time: everything is resolved with dlopen/dlsym at run time
// (ccuda_loader.c). Values and signatures follow the public CUDA 12/13 ABI.
#ifndef SGLANG_CCUDA_H
#define SGLANG_CCUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Only the entry-point fields carry nullability (resolved ones are never NULL); the rest stay unannotated.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-completeness"

// MARK: - Driver API

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum {
    CCUDA_SUCCESS = 0,
    CCUDA_ERROR_NOT_READY = 600,
    CCUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED = 704,
};

enum {
    CCUDA_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    CCUDA_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
    CCUDA_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CCUDA_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
    CCUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CCUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    CCUDA_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};

enum {
    CCUDA_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

enum {
    CCUDA_STREAM_NON_BLOCKING = 1,
    CCUDA_EVENT_DEFAULT = 0,
    CCUDA_EVENT_DISABLE_TIMING = 2,
    CCUDA_STREAM_CAPTURE_MODE_GLOBAL = 0,
    CCUDA_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
    CCUDA_STREAM_CAPTURE_MODE_RELAXED = 2,
};

enum {
    CCUDA_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6,
};

/// `CUlaunchAttribute`: an attribute id and a 64-byte value union (only the int member is used here).
typedef struct CCUDALaunchAttribute {
    int id;
    char pad[4];
    union {
        char pad[64];
        int programmaticStreamSerializationAllowed;
    } value;
} CCUDALaunchAttribute;

/// `CUlaunchConfig` of `cuLaunchKernelEx`.
typedef struct CCUDALaunchConfig {
    unsigned int gridDimX, gridDimY, gridDimZ;
    unsigned int blockDimX, blockDimY, blockDimZ;
    unsigned int sharedMemBytes;
    CUstream hStream;
    CCUDALaunchAttribute *attrs;
    unsigned int numAttrs;
} CCUDALaunchConfig;

/// The driver entry points, resolved by `ccuda_resolve_driver` (versioned `_v2` names where the ABI has them).
typedef struct CCUDADriverAPI {
    CUresult (*_Nonnull cuInit)(unsigned int flags);
    CUresult (*_Nonnull cuDriverGetVersion)(int *version);
    CUresult (*_Nonnull cuGetErrorName)(CUresult error, const char **name);
    CUresult (*_Nonnull cuGetErrorString)(CUresult error, const char **text);
    CUresult (*_Nonnull cuDeviceGetCount)(int *count);
    CUresult (*_Nonnull cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*_Nonnull cuDeviceGetName)(char *name, int length, CUdevice device);
    CUresult (*_Nonnull cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*_Nonnull cuDeviceTotalMem)(size_t *bytes, CUdevice device);
    CUresult (*_Nonnull cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
    CUresult (*_Nonnull cuDevicePrimaryCtxRelease)(CUdevice device);
    CUresult (*_Nonnull cuCtxSetCurrent)(CUcontext context);
    CUresult (*_Nonnull cuCtxSynchronize)(void);
    /// Peer access between the GPUs of a tensor-parallel group (optional: the group then sums through NCCL only).
    CUresult (*_Nullable cuDeviceCanAccessPeer)(int *canAccess, CUdevice device, CUdevice peer);
    CUresult (*_Nullable cuCtxEnablePeerAccess)(CUcontext peer, unsigned int flags);
    CUresult (*_Nonnull cuMemGetInfo)(size_t *free, size_t *total);
    CUresult (*_Nonnull cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
    CUresult (*_Nonnull cuMemFree)(CUdeviceptr pointer);
    CUresult (*_Nonnull cuMemAllocHost)(void **pointer, size_t bytes);
    CUresult (*_Nonnull cuMemFreeHost)(void *pointer);
    CUresult (*_Nonnull cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
    CUresult (*_Nonnull cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
    CUresult (*_Nonnull cuMemcpyDtoD)(CUdeviceptr dst, CUdeviceptr src, size_t bytes);
    CUresult (*_Nonnull cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream);
    CUresult (*_Nonnull cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*_Nonnull cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*_Nonnull cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream);
    CUresult (*_Nonnull cuMemsetD32Async)(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream);
    CUresult (*_Nonnull cuStreamCreate)(CUstream *stream, unsigned int flags);
    CUresult (*_Nonnull cuStreamDestroy)(CUstream stream);
    CUresult (*_Nonnull cuStreamSynchronize)(CUstream stream);
    CUresult (*_Nonnull cuEventCreate)(CUevent *event, unsigned int flags);
    CUresult (*_Nonnull cuEventDestroy)(CUevent event);
    CUresult (*_Nonnull cuEventRecord)(CUevent event, CUstream stream);
    CUresult (*_Nonnull cuEventSynchronize)(CUevent event);
    CUresult (*_Nonnull cuEventElapsedTime)(float *milliseconds, CUevent start, CUevent end);
    CUresult (*_Nonnull cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*_Nonnull cuModuleUnload)(CUmodule module);
    CUresult (*_Nonnull cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
    CUresult (*_Nonnull cuFuncSetAttribute)(CUfunction function, int attribute, int value);
    CUresult (*_Nonnull cuLaunchKernel)(CUfunction function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                               unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                               unsigned int sharedBytes, CUstream stream, void **params, void **extra);
    /// Launch with attributes (programmatic dependent launch); optional: drivers before CUDA 12 lack it.
    CUresult (*_Nullable cuLaunchKernelEx)(const CCUDALaunchConfig *config, CUfunction function, void **params,
                                           void **extra);
    CUresult (*_Nonnull cuStreamBeginCapture)(CUstream stream, int mode);
    CUresult (*_Nonnull cuStreamEndCapture)(CUstream stream, CUgraph *graph);
    CUresult (*_Nonnull cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph, unsigned long long flags);
    CUresult (*_Nonnull cuGraphLaunch)(CUgraphExec exec, CUstream stream);
    CUresult (*_Nonnull cuGraphExecDestroy)(CUgraphExec exec);
    CUresult (*_Nonnull cuGraphDestroy)(CUgraph graph);
} CCUDADriverAPI;

// MARK: - NVRTC

typedef int nvrtcResult;
typedef struct _nvrtcProgram *nvrtcProgram;

typedef struct CCUDANVRTCAPI {
    const char *(*_Nonnull nvrtcGetErrorString)(nvrtcResult result);
    nvrtcResult (*_Nonnull nvrtcVersion)(int *major, int *minor);
    nvrtcResult (*_Nonnull nvrtcCreateProgram)(nvrtcProgram *program, const char *source, const char *name,
                                      int headerCount, const char *const *headers, const char *const *includeNames);
    nvrtcResult (*_Nonnull nvrtcDestroyProgram)(nvrtcProgram *program);
    nvrtcResult (*_Nonnull nvrtcCompileProgram)(nvrtcProgram program, int optionCount, const char *const *options);
    nvrtcResult (*_Nonnull nvrtcGetPTXSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*_Nonnull nvrtcGetPTX)(nvrtcProgram program, char *ptx);
    nvrtcResult (*_Nonnull nvrtcGetCUBINSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*_Nonnull nvrtcGetCUBIN)(nvrtcProgram program, char *cubin);
    nvrtcResult (*_Nonnull nvrtcGetProgramLogSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*_Nonnull nvrtcGetProgramLog)(nvrtcProgram program, char *log);
    nvrtcResult (*_Nullable nvrtcGetNumSupportedArchs)(int *count);
    nvrtcResult (*_Nullable nvrtcGetSupportedArchs)(int *archs);
} CCUDANVRTCAPI;

// MARK: - cuBLASLt

typedef int cublasStatus_t;
typedef struct cublasLtContext *cublasLtHandle_t;
typedef struct cublasLtMatmulDescOpaque *cublasLtMatmulDesc_t;
typedef struct cublasLtMatrixLayoutOpaque *cublasLtMatrixLayout_t;
typedef struct cublasLtMatmulPreferenceOpaque *cublasLtMatmulPreference_t;

/// An algorithm chosen by the heuristic: opaque 64 bytes.
typedef struct CCUDABlasLtAlgo {
    uint64_t data[8];
} CCUDABlasLtAlgo;

typedef struct CCUDABlasLtHeuristicResult {
    CCUDABlasLtAlgo algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} CCUDABlasLtHeuristicResult;

enum {
    CCUDA_R_32F = 0,
    CCUDA_R_16F = 2,
    CCUDA_R_16BF = 14,
    CCUBLAS_COMPUTE_32F = 68,
    CCUBLAS_OP_N = 0,
    CCUBLAS_OP_T = 1,
    CCUBLASLT_MATMUL_DESC_TRANSA = 3,
    CCUBLASLT_MATMUL_DESC_TRANSB = 4,
    CCUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
};

typedef struct CCUDABlasLtAPI {
    size_t (*_Nonnull cublasLtGetVersion)(void);
    cublasStatus_t (*_Nonnull cublasLtCreate)(cublasLtHandle_t *handle);
    cublasStatus_t (*_Nonnull cublasLtDestroy)(cublasLtHandle_t handle);
    cublasStatus_t (*_Nonnull cublasLtMatmulDescCreate)(cublasLtMatmulDesc_t *desc, int computeType, int scaleType);
    cublasStatus_t (*_Nonnull cublasLtMatmulDescDestroy)(cublasLtMatmulDesc_t desc);
    cublasStatus_t (*_Nonnull cublasLtMatmulDescSetAttribute)(cublasLtMatmulDesc_t desc, int attribute, const void *value,
                                                     size_t size);
    cublasStatus_t (*_Nonnull cublasLtMatrixLayoutCreate)(cublasLtMatrixLayout_t *layout, int type, uint64_t rows,
                                                 uint64_t cols, int64_t ld);
    cublasStatus_t (*_Nonnull cublasLtMatrixLayoutDestroy)(cublasLtMatrixLayout_t layout);
    cublasStatus_t (*_Nonnull cublasLtMatmulPreferenceCreate)(cublasLtMatmulPreference_t *pref);
    cublasStatus_t (*_Nonnull cublasLtMatmulPreferenceDestroy)(cublasLtMatmulPreference_t pref);
    cublasStatus_t (*_Nonnull cublasLtMatmulPreferenceSetAttribute)(cublasLtMatmulPreference_t pref, int attribute,
                                                           const void *value, size_t size);
    cublasStatus_t (*_Nonnull cublasLtMatmulAlgoGetHeuristic)(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                                     cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                                     cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                                     cublasLtMatmulPreference_t pref, int requested,
                                                     CCUDABlasLtHeuristicResult *results, int *returned);
    cublasStatus_t (*_Nonnull cublasLtMatmul)(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,
                                     const void *a, cublasLtMatrixLayout_t aDesc, const void *b,
                                     cublasLtMatrixLayout_t bDesc, const void *beta, const void *c,
                                     cublasLtMatrixLayout_t cDesc, void *d, cublasLtMatrixLayout_t dDesc,
                                     const CCUDABlasLtAlgo *algo, void *workspace, size_t workspaceSize,
                                     CUstream stream);
    const char *(*_Nullable cublasLtGetStatusString)(cublasStatus_t status);
} CCUDABlasLtAPI;

// MARK: - NCCL

typedef int ncclResult_t;
typedef struct ncclComm *ncclComm_t;

enum {
    CNCCL_SUCCESS = 0,
    CNCCL_FLOAT32 = 7,
    CNCCL_BFLOAT16 = 9,
    CNCCL_SUM = 0,
};

/// The NCCL entry points of single-process tensor parallelism (one communicator per local GPU).
typedef struct CCUDANCCLAPI {
    ncclResult_t (*_Nonnull ncclGetVersion)(int *version);
    const char *(*_Nonnull ncclGetErrorString)(ncclResult_t result);
    ncclResult_t (*_Nonnull ncclCommInitAll)(ncclComm_t *comms, int count, const int *devices);
    ncclResult_t (*_Nonnull ncclAllReduce)(const void *send, void *receive, size_t count, int type, int op,
                                           ncclComm_t comm, CUstream stream);
    /// The last error's detail (NCCL 2.13+); NULL when absent.
    const char *(*_Nullable ncclGetLastError)(ncclComm_t comm);

} CCUDANCCLAPI;

// MARK: - Loader

/// dlopen with RTLD_NOW | RTLD_LOCAL; NULL on failure (`ccuda_last_dl_error` says why).
void *ccuda_dlopen(const char *path);
/// The message of the last failed dlopen/dlsym, or "" (copied into `buffer`).
void ccuda_last_dl_error(char *buffer, size_t size);

/// Resolves the driver entry points of an opened libcuda into a newly allocated table (kept for the process's
/// lifetime). Returns NULL on success, else the name of the first missing symbol (`*api` is then NULL).
const char *ccuda_resolve_driver(void *library, const CCUDADriverAPI **api);
/// The same for libnvrtc; the supported-arch queries are optional (NULL when absent).
const char *ccuda_resolve_nvrtc(void *library, const CCUDANVRTCAPI **api);
/// The same for libcublasLt; `cublasLtGetStatusString` is optional.
const char *ccuda_resolve_blaslt(void *library, const CCUDABlasLtAPI **api);
/// The same for libnccl; `ncclGetLastError` is optional.
const char *ccuda_resolve_nccl(void *library, const CCUDANCCLAPI **api);

#pragma clang diagnostic pop

#ifdef __cplusplus
}
#endif

#endif
