// The params structs are header-only; compiling the header here checks its pinned sizes on the host.
#include "sglang_kernel_params.h"
