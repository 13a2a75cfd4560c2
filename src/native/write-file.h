#ifndef STRATA_WRITE_FILE_H
#define STRATA_WRITE_FILE_H
#include <node_api.h>

void register_write_file(napi_env env, napi_value exports);

#endif
