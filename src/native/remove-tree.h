#ifndef STRATA_REMOVE_TREE_H
#define STRATA_REMOVE_TREE_H
#include <node_api.h>

void register_remove_tree(napi_env env, napi_value exports);

#endif
