#ifndef STRATA_DISK_USAGE_H
#define STRATA_DISK_USAGE_H
#include <node_api.h>

void register_disk_usage(napi_env env, napi_value exports);

#endif
