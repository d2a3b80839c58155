// Kernel timeline of any CUDA program, CUDA-graph nodes included, through CUPTI's activity API: a preload library
// that writes every kernel's start, end, grid and name to $KTRACE_OUT as CSV; with KTRACE_API=1 also every driver
// call (the host's side: launches, copies, waits) and every copy on the GPU, in the same clock. Used to see where a
// decode step goes inside its graph (ncu replays kernels one at a time, cold, which hides the gaps between them and
// overstates short kernels). scripts/cuda/ktrace.sh builds it on the GPU machine (KREC / MREC: the newest kernel
// and memcpy record structs of that CUPTI) and runs a command under it; ktrace_report.py summarizes the trace.
#include <cupti.h>
#include <stdio.h>
#include <stdlib.h>

static FILE *out;

static void CUPTIAPI requested(uint8_t **buffer, size_t *size, size_t *maxRecords) {
    *size = 16u << 20;
    *buffer = aligned_alloc(64, *size);
    *maxRecords = 0;
}

static void CUPTIAPI completed(CUcontext context, uint32_t stream, uint8_t *buffer, size_t size, size_t valid) {
    (void)context; (void)stream; (void)size;
    CUpti_Activity *record = NULL;
    while (out && cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
        if (record->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) {
            const KREC *k = (const KREC *)record;
            fprintf(out, "kernel,%llu,%llu,%u,%d,%d,%d,%d,%llu,%s\n", (unsigned long long)k->start,
                    (unsigned long long)k->end, k->streamId, k->gridX, k->gridY, k->gridZ, k->blockX,
                    (unsigned long long)k->graphNodeId, k->name);
        } else if (record->kind == CUPTI_ACTIVITY_KIND_MEMCPY) {
            const MREC *m = (const MREC *)record;
            fprintf(out, "copy,%llu,%llu,%u,%llu,0,0,0,0,memcpy kind %d\n", (unsigned long long)m->start,
                    (unsigned long long)m->end, m->streamId, (unsigned long long)m->bytes, (int)m->copyKind);
        } else if (record->kind == CUPTI_ACTIVITY_KIND_DRIVER) {
            const CUpti_ActivityAPI *a = (const CUpti_ActivityAPI *)record;
            const char *name = "?";
            cuptiGetCallbackName(CUPTI_CB_DOMAIN_DRIVER_API, a->cbid, &name);
            fprintf(out, "api,%llu,%llu,%u,0,0,0,0,0,%s\n", (unsigned long long)a->start, (unsigned long long)a->end,
                    a->threadId, name);
        }
    }
    free(buffer);
}

static void finish(void) {
    cuptiActivityFlushAll(1);
    if (out) fclose(out);
    out = NULL;
}

__attribute__((constructor)) static void start(void) {
    const char *path = getenv("KTRACE_OUT");
    out = fopen(path ? path : "ktrace.csv", "w");
    if (!out) return;
    fprintf(out, "kind,start,end,stream,gx,gy,gz,bx,node,name\n");
    cuptiActivityRegisterCallbacks(requested, completed);
    if (cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != CUPTI_SUCCESS) fprintf(stderr, "ktrace: CUPTI failed\n");
    const char *api = getenv("KTRACE_API");
    if (api && api[0] == '1') {
        cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER);
        cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY);
    }
    atexit(finish);
}
