// Kernel timeline of any CUDA program, CUDA-graph nodes included, through CUPTI's activity API: build it as a
// preload library on the GPU machine and run the program under it; every kernel's start, end, grid and name go
// to $KTRACE_OUT as CSV; with KTRACE_API=1 also every driver call (the host's side: launches, copies, waits) and
// every copy on the GPU, in the same clock. Used to see where a decode step goes inside its graph (ncu replays kernels one at a
// time, cold, which hides the gaps between them and overstates short kernels).
//   KREC=$(grep -o '} CUpti_ActivityKernel[0-9]*;' $CUPTI/include/cupti_activity.h | grep -o '[0-9]*' | sort -n | tail -1)
//   MREC=$(grep -ho '} CUpti_ActivityMemcpy[0-9]*;' $CUPTI/include/cupti_activity*.h | grep -o '[0-9]*' | sort -n | tail -1)
//   gcc -O2 -shared -fPIC -DKREC=CUpti_ActivityKernel$KREC -DMREC=CUpti_ActivityMemcpy$MREC -I$CUPTI/include -I/usr/local/cuda/include \
//       scripts/cuda/ktrace.c -o ktrace.so -L$CUPTI/lib64 -lcupti
//   LD_PRELOAD=$PWD/ktrace.so KTRACE_OUT=trace.csv LD_LIBRARY_PATH=$CUPTI/lib64 sglang bench-one-batch ...
// CUPTI=/usr/local/cuda/extras/CUPTI. scripts/cuda/ktrace_report.py summarizes the last decode steps.
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
